// run/restart.ts in-process: a deploy onto a real unit of a real `systemd --user`, whose
// systemctl finds that manager through the Context's environment (XDG_RUNTIME_DIR), not the
// test process's. test/e2e/health.test.ts keeps the exit codes 7 and 8 as a process shows them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appFixture, BUILD_COMMANDS } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { freePort, getText } from '../helpers/http.ts';
import { requireSystemd, uniqueUnit } from '../helpers/systemd.ts';
import { deploy } from '../../src/run/deploy.ts';
import { HealthCheckFailedError } from '../../src/errors/index.ts';
import { readlink, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';


describe('restart and health (in-process)', () => {
  test('with a real unit: an app answering 500, exiting at start, or never listening is rolled back and the old commit answers', async (t) => {
    const systemd = await requireSystemd(t);
    if (!systemd) return;
    const app = await appFixture(t);
    const port = await freePort();
    const server = `
      const fs = require('fs');
      const info = JSON.parse(fs.readFileSync('build-info.json', 'utf8'));
      if (fs.existsSync('exit-on-start')) process.exit(1);
      if (fs.existsSync('never-listen')) setInterval(() => {}, 1000);
      else require('http').createServer((q, s) => { s.statusCode = fs.existsSync('answer-500') ? 500 : 200; s.end(info.commit); }).listen(${port}, '127.0.0.1');`;
    const unit = uniqueUnit();
    await systemd.installUnit(unit, `[Service]\nWorkingDirectory=${app.root}/active\nExecStart=${process.execPath} server.js\n`);
    await app.writeConfig(
      `[repo]\nurl = "${app.url}"\n[build]\n${BUILD_COMMANDS}\n[systemd]\nunit = "${unit}"\nscope = "user"\n` +
        `[health]\nurl = "http://127.0.0.1:${port}/"\ntimeout = "2s"\ninterval = "50ms"\n`,
    );
    const env = systemd.env;
    const good = await app.commitVersion(1, { extra: { 'server.js': server } });
    await deploy((await testContext(app.root, { env })).ctx, undefined);
    assert.equal(await getText(port), good);
    let n = 2;
    for (const mode of ['answer-500', 'exit-on-start', 'never-listen']) {
      const bad = await app.commitVersion(n++, { extra: { 'server.js': server, [mode]: 'x' } });
      const err = await deploy((await testContext(app.root, { env })).ctx, bad).catch((e: unknown) => e);
      assert.ok(err instanceof HealthCheckFailedError, `${mode}: ${String(err)}`);
      assert.equal(err.exitCode, 7);
      assert.match(err.message, new RegExp(`rolled back to ${good}`));
      assert.ok(err.hint!.startsWith(`see why with: journalctl --user -u ${unit} `), err.hint);
      if (mode === 'answer-500') assert.match(err.message, /answered HTTP 500/);
      assert.equal(await getText(port), good, `${mode}: the previous commit answers again`);
    }
  });

  test('a previous deployment removed by hand is nothing to go back to: the new one stays active, and mfd says so', async (t) => {
    const app = await appFixture(t);
    const check = `[${JSON.stringify(process.execPath)}, "-e", "process.exit(require('fs').existsSync('unhealthy') ? 1 : 0)"]`;
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\n${BUILD_COMMANDS}\n[health]\ncommand = ${check}\ntimeout = "2s"\nretries = 0\n`);
    await app.commitVersion(1);
    await deploy((await testContext(app.root)).ctx, undefined);
    const first = basename(await readlink(join(app.root, 'active')));
    await rm(join(app.root, first), { recursive: true });
    const bad = await app.commitVersion(2, { extra: { unhealthy: 'yes' } });
    const run = await testContext(app.root);
    const err = await deploy(run.ctx, bad).catch((e: unknown) => e);
    assert.ok(err instanceof HealthCheckFailedError, String(err));
    assert.match(err.message, /there was no previous deployment to go back to, so it stays active/);
    assert.match(run.stderr(), new RegExp(`warning: the previous deployment ${first} is no directory of the app root`));
    const now = basename(await readlink(join(app.root, 'active')));
    assert.ok(now.endsWith(bad), `active is the new deployment, never the removed one: ${now}`);
  });
});
