import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { journalctlCommand, restartUnit, systemctlArgv, unitFailure, unitStatus, type UnitStatus } from '../../src/steps/service.ts';
import { parseListen, parseTriggeredBy, socketStartCommand } from '../../src/steps/socket.ts';
import { RestartFailedError } from '../../src/errors/index.ts';
import { requireSystemd } from '../helpers/systemd.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { freePort, getText } from '../helpers/http.ts';

describe('service', () => {
  test('systemctl argv for system and user scope', () => {
    assert.deepEqual(systemctlArgv('system', 'restart', 'app'), ['systemctl', 'restart', 'app']);
    assert.deepEqual(systemctlArgv('user', 'restart', 'app'), ['systemctl', '--user', 'restart', 'app']);
    assert.equal(journalctlCommand('user', 'app'), 'journalctl --user -u app -n 50 --no-pager');
    assert.equal(journalctlCommand('system', 'app'), 'journalctl -u app -n 50 --no-pager');
  });

  test('a unit that lost the main process its restart started is seen as failed, whatever ActiveState says', () => {
    const started: UnitStatus = { activeState: 'active', subState: 'running', result: 'success', mainPid: 10, startedMonotonicUs: 1000, nRestarts: 0 };
    assert.equal(unitFailure('app', started, started), undefined);
    assert.equal(unitFailure('app', started, { ...started, activeState: 'failed', subState: 'failed', result: 'exit-code', mainPid: 0 }), 'unit app failed (result exit-code)');
    assert.match(unitFailure('app', started, { ...started, activeState: 'inactive', result: 'success' })!, /unit app is inactive .*main process exited/);
    assert.match(unitFailure('app', started, { ...started, activeState: 'activating', subState: 'auto-restart', result: 'exit-code' })!, /waiting to restart/);
    assert.match(unitFailure('app', started, { ...started, nRestarts: 2 })!, /restarted 2 time\(s\) since mfd restarted it/);
    // Behind a socket a crashing app is started again at once and looks active: the new process tells.
    assert.equal(unitFailure('app', started, { ...started, mainPid: 11, startedMonotonicUs: 2000 }), 'unit app: the main process mfd started (pid 10) exited and another (pid 11) was started');
  });

  test('socket activation: TriggeredBy, Listen and the commands that bring a socket back', () => {
    assert.deepEqual(parseTriggeredBy('app.socket app.timer'), ['app.socket']);
    assert.deepEqual(parseTriggeredBy(''), []);
    assert.deepEqual(parseListen('127.0.0.1:8080 (Stream) [::1]:8080 (Stream)'), ['127.0.0.1:8080', '[::1]:8080']);
    const socket = { unit: 'app.socket', activeState: 'inactive', result: 'success', listen: [] };
    assert.equal(socketStartCommand('user', socket), 'systemctl --user start app.socket');
    assert.equal(socketStartCommand('system', { ...socket, activeState: 'failed' }), 'systemctl reset-failed app.socket && systemctl start app.socket');
  });

  test('a restart runs the deployment active points at, and a new activation changes what answers', async (t) => {
    const systemd = await requireSystemd(t);
    if (!systemd) return;
    const root = await tmpRoot(t);
    const port = await freePort();
    for (const name of ['one', 'two']) {
      await mkdir(join(root, name));
      await writeFile(
        join(root, name, 'server.js'),
        `require('http').createServer((q, s) => s.end(${JSON.stringify(name)})).listen(${port}, '127.0.0.1')`,
      );
    }
    await symlink('one', join(root, 'active'));
    await systemd.installUnit('svc', `[Service]\nWorkingDirectory=${root}/active\nExecStart=${process.execPath} server.js\n`);
    // systemctl --user finds this manager through XDG_RUNTIME_DIR.
    process.env.XDG_RUNTIME_DIR = systemd.env.XDG_RUNTIME_DIR;
    const target = { unit: 'svc', scope: 'user' as const, env: process.env };
    await restartUnit(target);
    assert.equal(await getText(port), 'one');
    const first = await unitStatus(target);
    assert.equal(first.activeState, 'active');
    assert.ok(first.mainPid > 0);

    await symlink('two', join(root, 'active.tmp'));
    await rename(join(root, 'active.tmp'), join(root, 'active'));
    await restartUnit(target);
    assert.equal(await getText(port), 'two');
    const second = await unitStatus(target);
    assert.ok(second.startedMonotonicUs > first.startedMonotonicUs);
    assert.notEqual(second.mainPid, first.mainPid);

    const err = await restartUnit({ unit: 'no-such-unit', scope: 'user', env: process.env }).catch((e: unknown) => e);
    assert.ok(err instanceof RestartFailedError);
    assert.equal(err.exitCode, 6);
    assert.match(err.message, /restart of unit no-such-unit failed: systemctl --user restart no-such-unit: exit status 5/);
    assert.match(err.hint!, /journalctl --user -u no-such-unit/);
  });
});
