// A service manager that does not answer: a `systemctl` placed first on the Context's PATH stands
// in for a hung one (the real one cannot be made to hang) and otherwise passes every call on to the
// real systemctl of a real `systemd --user`. Its hung calls are killed by mfd's bounds, so this
// file runs inside a private pid namespace, which it re-runs itself in.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { appFixture, BUILD_COMMANDS } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { freePort, getText } from '../helpers/http.ts';
import { IN_PID_NAMESPACE, testInPidNamespace } from '../helpers/pidns-file.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { requireSystemd, uniqueUnit } from '../helpers/systemd.ts';
import { deploy } from '../../src/run/deploy.ts';
import { RestartFailedError, SystemctlTimeoutError } from '../../src/errors/index.ts';
import { restartUnit } from '../../src/steps/service.ts';
import { isRunning } from '../../src/sys/process.ts';

async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The stand-in: `mode` holds which calls hang (`status` for the unit's status, from call number
 * `from` on; `socket` for the TriggeredBy question; `reset` for reset-failed); a hung call writes
 * its pid to `hung.pids` and sleeps. Every other call is the real systemctl's.
 */
async function fakeSystemctl(t: TestContext): Promise<{ env: Record<string, string>; hang: (mode: string) => Promise<void>; hungPids: () => Promise<number[]> }> {
  const dir = await tmpRoot(t);
  const real = execFileSync('sh', ['-c', 'command -v systemctl'], { encoding: 'utf8' }).trim();
  const script = `#!/bin/sh
read mode from < "${dir}/mode"
hang() { echo $$ >> "${dir}/hung.pids"; exec sleep 1000; }
case "$mode:$*" in
  status:*MainPID*) n=$(($(cat "${dir}/count" 2>/dev/null || echo 0) + 1)); echo $n > "${dir}/count"; [ "$n" -ge "$from" ] && hang ;;
  socket:*TriggeredBy*) hang ;;
  reset:*reset-failed*) hang ;;
esac
exec ${real} "$@"
`;
  await writeFile(join(dir, 'systemctl'), script);
  await chmod(join(dir, 'systemctl'), 0o755);
  await writeFile(join(dir, 'mode'), 'none 0\n');
  return {
    env: { PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    hang: async (mode) => {
      await writeFile(join(dir, 'count'), '0\n');
      await writeFile(join(dir, 'mode'), `${mode}\n`);
    },
    hungPids: async () => (await readFile(join(dir, 'hung.pids'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number),
  };
}

if (!IN_PID_NAMESPACE) {
  testInPidNamespace('restart: every systemctl call is bounded (inside a private pid namespace)', import.meta.filename);
} else {
  describe('restart with a service manager that does not answer', () => {
    test('a hung status query is a warning and the health check decides; a hung socket query stops the deploy before activation', async (t) => {
      const systemd = await requireSystemd(t);
      if (!systemd) return;
      const fake = await fakeSystemctl(t);
      const app = await appFixture(t);
      const port = await freePort();
      // Healthy while `ready` exists: the third deploy's check is kept going until the watch has timed out.
      const ready = join(await tmpRoot(t), 'ready');
      await writeFile(ready, '');
      const server = `const fs = require('fs'); require('http').createServer((q, s) => { s.statusCode = fs.existsSync(${JSON.stringify(ready)}) ? 200 : 503; s.end(fs.readFileSync('version.txt', 'utf8').trim()); }).listen(${port}, '127.0.0.1');`;
      const unit = uniqueUnit();
      await systemd.installUnit(unit, `[Service]\nWorkingDirectory=${app.root}/active\nExecStart=${process.execPath} server.js\n`);
      await app.writeConfig(
        `[repo]\nurl = "${app.url}"\n[build]\n${BUILD_COMMANDS}\n[systemd]\nunit = "${unit}"\nscope = "user"\n` +
          `[health]\nurl = "http://127.0.0.1:${port}/"\ntimeout = "60s"\ninterval = "50ms"\n`,
      );
      const env = { ...systemd.env, ...fake.env };
      await app.commitVersion(1, { extra: { 'server.js': server } });
      await deploy((await testContext(app.root, { env })).ctx, undefined);
      assert.equal(await getText(port), '1');

      // Every status query hangs: the restart itself is answered, and the app does come up.
      await fake.hang('status 1');
      await app.commitVersion(2, { extra: { 'server.js': server } });
      const second = await testContext(app.root, { env });
      await deploy(second.ctx, undefined);
      assert.equal(await getText(port), '2');
      assert.match(second.stderr(), new RegExp(`warning: cannot read the status of unit ${unit} before its restart: systemctl --user show -p .* ${unit}: no answer within 10 s \\(mfd killed it\\): the service manager hangs`));
      assert.match(second.stderr(), new RegExp(`warning: cannot read the status of unit ${unit} after its restart: .*\\n.*hint: the health check alone decides whether it came up`));

      // Answered before and after the restart, hung while the health check watches the unit: the
      // check goes on meanwhile, and passes once the app is ready.
      await fake.hang('status 3');
      await rm(ready);
      await app.commitVersion(3, { extra: { 'server.js': server } });
      const third = await testContext(app.root, { env });
      const deploying = deploy(third.ctx, undefined);
      deploying.catch(() => undefined); // awaited below; a failure meanwhile must not count as unhandled
      await until(() => /cannot watch unit/.test(third.stderr()), 'the warning that the watch got no answer');
      await writeFile(ready, '');
      await deploying;
      assert.equal(await getText(port), '3');
      assert.match(third.stderr(), new RegExp(`warning: cannot watch unit ${unit} during the health check: systemctl --user show -p .* ${unit}: no answer within 10 s`));
      assert.doesNotMatch(third.stderr(), /cannot read the status/);

      // Whether the unit is socket-activated cannot be told: nothing is activated.
      await fake.hang('socket 1');
      const activeBefore = basename(await readlink(join(app.root, 'active')));
      await app.commitVersion(4, { extra: { 'server.js': server } });
      const err = await deploy((await testContext(app.root, { env })).ctx, undefined).catch((e: unknown) => e);
      assert.ok(err instanceof SystemctlTimeoutError, String(err));
      assert.equal(err.code, 'SYSTEMCTL_TIMEOUT');
      assert.equal(err.exitCode, 6);
      assert.match(err.message, new RegExp(`^systemctl --user show -p TriggeredBy ${unit}: no answer within 10 s \\(mfd killed it\\): the service manager hangs$`));
      assert.equal(err.hint, `check the service manager (systemctl --user status ${unit}), then run mfd again`);
      assert.equal(basename(await readlink(join(app.root, 'active'))), activeBefore, 'active is untouched');
      assert.equal(await getText(port), '3');
      for (const pid of await fake.hungPids()) assert.equal(await isRunning(pid), false, `hung systemctl ${pid} was killed`);
    });

    test('a hung reset-failed before the restart is a failed restart naming it, not a wait for the restart behind it', async (t) => {
      const fake = await fakeSystemctl(t);
      await fake.hang('reset 1');
      const err = await restartUnit({ unit: 'app', scope: 'user', env: { ...process.env, ...fake.env } }).catch((e: unknown) => e);
      assert.ok(err instanceof RestartFailedError, String(err));
      assert.equal(err.message, 'restart of unit app failed: systemctl --user reset-failed app: no answer within 10 s (mfd killed it): the service manager hangs');
      const [pid] = await fake.hungPids();
      assert.equal(await isRunning(pid!), false);
    });
  });
}
