// Socket activation with the shipped units (systemd/app.socket, systemd/app.service) and the
// example app under a real systemd --user: the restart line, a crash on start that ends the
// health check at once while the socket keeps listening, and a socket that is not listening.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readlink } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { mfd, startMfd } from '../helpers/cli.ts';
import { freePort, getText } from '../helpers/http.ts';
import { requireSystemd, uniqueUnit, type UserSystemd } from '../helpers/systemd.ts';
import { exampleUnits } from '../../bench/load-scenario.ts';

const SERVER_JS = fileURLToPath(new URL('../../examples/app/server.js', import.meta.url));
const node = JSON.stringify(process.execPath);

interface Scene { app: AppFixture; systemd: UserSystemd; port: number; unit: string; env: Record<string, string>; version: (n: number, crash?: boolean) => Promise<string> }

async function setup(t: TestContext, editService: (text: string) => string = (text) => text): Promise<Scene | undefined> {
  const systemd = await requireSystemd(t);
  if (!systemd) return undefined;
  const app = await appFixture(t);
  const port = await freePort();
  const unit = uniqueUnit();
  const units = await exampleUnits('socket', app.root, port, unit);
  await systemd.installUnit(`${unit}.socket`, units.socket!);
  await systemd.installUnit(unit, editService(units.service));
  assert.equal((await systemd.systemctl('start', `${unit}.socket`)).code, 0);
  t.after(() => systemd.systemctl('stop', `${unit}.service`, `${unit}.socket`));
  // A long timeout: a check that waited it out instead of seeing the crash would show in the detail.
  await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = [[${node}, "build.js"]]\n[systemd]\nunit = "${unit}"\nscope = "user"\n` +
    `[health]\nurl = "http://127.0.0.1:${port}/health"\ntimeout = "60s"\ninterval = "100ms"\n`);
  const server = await readFile(SERVER_JS, 'utf8');
  const version = (n: number, crash = false) => app.commitVersion(n, { extra: { 'server.js': crash ? 'process.exit(1)\n' : server } });
  return { app, systemd, port, unit, env: systemd.env, version };
}

const commitAt = async (port: number) => (JSON.parse(await getText(port)) as { commit: string }).commit;

/** One GET on a new connection, no retry: a refused or reset request fails the test. */
function getOnce(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve((JSON.parse(body) as { commit: string }).commit));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('socket activation (e2e)', () => {
  test('the restart line names the socket; a crash on start ends the check at once, what waited is answered by the rollback, and a manual rollback then works', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { app, port, env, unit } = s;
    const one = await s.version(1);
    const first = await mfd(['deploy'], { cwd: app.root, env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, new RegExp(`✓ restart +${unit} \\(socket-activated: ${unit}\\.socket holds 127\\.0\\.0\\.1:${port}\\)`));
    assert.equal(await commitAt(port), one);
    const two = await s.version(2);
    assert.equal((await mfd(['deploy'], { cwd: app.root, env })).code, 0);

    await s.version(3, true);
    const crash = startMfd(['deploy'], { cwd: app.root, env });
    // Requests on fresh connections for as long as the crashing deploy runs: none may fail.
    const answers: string[] = [];
    let ended = false;
    void crash.done.then(() => (ended = true));
    while (!ended) answers.push(await getOnce(port));
    const r = await crash.done;
    assert.equal(r.code, 7, r.stderr);
    // The check ended on the unit's state, not on the 60 s timeout nor on a refused connection.
    assert.match(r.stderr, new RegExp(`is unhealthy: unit ${unit} (is waiting to restart|failed|restarted|: the main process).*; rolled back to ${two}, which is healthy`));
    assert.ok(answers.length > 0);
    assert.deepEqual([...new Set(answers)], [two], 'every answer came from the deployment that was put back');

    // Issue #15 saw the manual rollback after such a deploy exit 8.
    const rb = await mfd(['rollback'], { cwd: app.root, env });
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal(await commitAt(port), one);
  });

  test('a socket that is not listening is refused before active moves: exit 6 with the command that starts it', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { app, systemd, env, unit } = s;
    await s.version(1);
    assert.equal((await mfd(['deploy'], { cwd: app.root, env })).code, 0);
    await s.version(2);
    assert.equal((await mfd(['deploy'], { cwd: app.root, env })).code, 0);
    const before = await readlink(join(app.root, 'active'));
    await systemd.systemctl('stop', `${unit}.socket`);

    await s.version(3);
    const r = await mfd(['deploy', '--json'], { cwd: app.root, env });
    assert.equal(r.code, 6, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.code, 'SOCKET_INACTIVE');
    assert.equal(out.message, `unit ${unit} is socket-activated but ${unit}.socket is inactive: nothing holds 127.0.0.1:${s.port}, so mfd did not restart ${unit}; active is untouched`);
    assert.equal(out.hint, `bring the socket back with: systemctl --user start ${unit}.socket; then run mfd again`);
    assert.equal(await readlink(join(app.root, 'active')), before);

    const rb = await mfd(['rollback'], { cwd: app.root, env });
    assert.equal(rb.code, 6, rb.stderr);
    assert.match(rb.stderr, new RegExp(`error: unit ${unit} is socket-activated but ${unit}\\.socket is inactive`));
    assert.equal(await readlink(join(app.root, 'active')), before);
  });

  test('a socket that a crash loop made systemd close (start limit hit) is started again on the way back', async (t) => {
    // A start limit of one start, restarted at once: the crash's restart hits it, and systemd then
    // stops the socket too (service-start-limit-hit), as the shipped unit's StartLimitIntervalSec=0 avoids.
    const s = await setup(t, (text) => text.replace(/^StartLimitIntervalSec=0$/m, 'StartLimitIntervalSec=600\nStartLimitBurst=1')
      .replace(/^Restart=.*$/m, 'Restart=always').replace(/^RestartSec=.*$/m, 'RestartSec=0'));
    if (!s) return;
    const { app, systemd, port, env, unit } = s;
    await s.version(1);
    const two = await s.version(2);
    assert.equal((await mfd(['deploy', two], { cwd: app.root, env })).code, 0);
    await s.version(3, true);
    const r = await mfd(['deploy'], { cwd: app.root, env });
    assert.equal(r.code, 7, r.stderr);
    // The health check may see the crash either once systemd has given up (failed) or while its
    // immediate restart is still pending (RestartSec=0): both end the check at once.
    assert.match(r.stderr, new RegExp(`unit ${unit} (failed \\(result [\\w-]+\\)|is waiting to restart: [^;]+); rolled back to ${two}, which is healthy`));
    assert.equal((await systemd.systemctl('is-active', `${unit}.socket`)).stdout.trim(), 'active');
    assert.equal(await getOnce(port), two);
  });
});
