import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { mfd, startMfd, waitForOutput } from '../helpers/cli.ts';
import { deployInProcess } from '../helpers/context.ts';
import { freePort, getText } from '../helpers/http.ts';
import { requireSystemd, uniqueUnit, type UserSystemd } from '../helpers/systemd.ts';

// The app answers with the commit it was built from; a deployment holding `fail-start` refuses to
// start (its ExecStartPre fails), so `systemctl restart` really fails for it.
const SERVER_JS = `
const info = JSON.parse(require('fs').readFileSync('build-info.json', 'utf8'));
require('http').createServer((q, s) => s.end(info.commit)).listen(Number(process.env.PORT), '127.0.0.1');
`;
const CHECK_JS = `process.exit(require('fs').existsSync('fail-start') ? 1 : 0)`;

async function setup(t: Parameters<typeof requireSystemd>[0]): Promise<{ app: AppFixture; systemd: UserSystemd; port: number; unit: string } | undefined> {
  const systemd = await requireSystemd(t);
  if (!systemd) return undefined;
  const app = await appFixture(t);
  const port = await freePort();
  // A name of its own: another test's same-named unit would share its cgroup (helpers/systemd.ts).
  const unit = uniqueUnit();
  await systemd.installUnit(
    unit,
    [
      '[Service]',
      `WorkingDirectory=${app.root}/active`,
      `ExecStartPre=${process.execPath} check.js`,
      `ExecStart=${process.execPath} server.js`,
      `Environment=PORT=${port}`,
    ].join('\n'),
  );
  await app.writeConfig(
    `[repo]\nurl = "${app.url}"\n\n[build]\ncommands = [[${JSON.stringify(process.execPath)}, "build.js"]]\n\n[systemd]\nunit = "${unit}"\nscope = "user"\n`,
  );
  return { app, systemd, port, unit };
}

const version = (app: AppFixture, n: number, failStart = false) =>
  app.commitVersion(n, { extra: { 'server.js': SERVER_JS, 'check.js': CHECK_JS, ...(failStart ? { 'fail-start': 'x' } : {}) } });

describe('mfd with a real systemd (e2e)', () => {
  test('deploy restarts the unit onto the new commit and rollback restarts it onto the previous one', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { app, systemd, port } = s;
    const env = systemd.env;
    const one = await version(app, 1);
    assert.equal((await mfd(['deploy'], { cwd: app.root, env })).code, 0);
    assert.equal(await getText(port), one);
    const two = await version(app, 2);
    const r = await mfd(['deploy'], { cwd: app.root, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`✓ restart +${s.unit} `));
    assert.equal(await getText(port), two);
    const rb = await mfd(['rollback'], { cwd: app.root, env });
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal(await getText(port), one);
  });

  test('a deployment whose unit fails to restart is undone: previous active, restarted, exit 6', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { app, systemd, port } = s;
    const env = systemd.env;
    const one = await version(app, 1);
    await deployInProcess(app.root, undefined, { env });
    const before = await readlink(join(app.root, 'active'));
    const bad = await version(app, 2, true);
    const r = await mfd(['deploy'], { cwd: app.root, env });
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, new RegExp(`error: restart of unit ${s.unit} failed: systemctl --user restart ${s.unit}: .*rolled back to ${one}`));
    assert.match(r.stderr, new RegExp(`hint: see why with: journalctl --user -u ${s.unit} `));
    assert.equal(await readlink(join(app.root, 'active')), before);
    assert.equal(await getText(port), one);
    const ls = await mfd(['ls'], { cwd: app.root, env });
    assert.equal(ls.stdout, `${bad} (failed)\n${one} (active)\n`);
    // Its own code, and the history still calls it rolled back.
    const [last] = JSON.parse((await mfd(['history', '--json'], { cwd: app.root, env })).stdout);
    assert.deepEqual([last.outcome, last.error.code], ['rolled-back', 'RESTART_ROLLED_BACK']);
  });

  test('a restart failure with no previous deployment says the new one stays active', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { app, systemd } = s;
    await version(app, 1, true);
    const r = await mfd(['deploy'], { cwd: app.root, env: systemd.env });
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /no previous deployment to go back to/);
  });

  test('kill -9 right after the restart: the new deployment stays active and the next deploy verifies it', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { app, systemd, port } = s;
    const env = systemd.env;
    await version(app, 1);
    await deployInProcess(app.root, undefined, { env });
    const two = await version(app, 2);
    const run = startMfd(['deploy'], { cwd: app.root, env: { ...env, MFD_TEST_PAUSE_AT: 'restarted' } });
    await waitForOutput(run, 'mfd-test-paused-at:restarted');
    run.child.kill('SIGKILL');
    await run.done;
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${two}$`));
    const r = await mfd(['deploy'], { cwd: app.root, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /reusing/);
    assert.equal(await getText(port), two);
  });
});
