// The shipped user unit systemd/user/mfd-watch@.service under a real `systemd --user` (TESTING.md
// §3): `systemctl stop` during a build lets the deploy under way finish, as mfd watch promises,
// instead of the manager killing the build under it (which failed the deploy and quarantined a good commit).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { commitHold, eventually, holdConfig, until } from '../helpers/hold.ts';
import { MFD } from '../helpers/cli.ts';
import { testContext } from '../helpers/context.ts';
import { requireSystemd, uniqueUnit } from '../helpers/systemd.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { deploy } from '../../src/run/deploy.ts';

const exists = (path: string) => access(path).then(() => true, () => false);

describe('mfd watch under a real systemd --user', () => {
  test('systemctl stop during a build: the build is not killed, the deploy finishes, active is the new commit, nothing is quarantined', async (t) => {
    const systemd = await requireSystemd(t);
    if (!systemd) return;
    const app = await appFixture(t, { config: (url) => `${holdConfig(url)}\n[watch]\ninterval = "1s"\n` });
    await commitHold(app, 1);
    await deploy((await testContext(app.root)).ctx, undefined);
    const next = await commitHold(app, 2);
    const home = await tmpRoot(t);
    const [log, started, release] = [join(home, 'watch.log'), join(home, 'started'), join(home, 'release')];
    // The shipped unit, with this test's app root for %h/apps/%i and this checkout's mfd; the
    // build (hold.js) says when it started and then waits for `release`.
    const shipped = await readFile(new URL('../../systemd/user/mfd-watch@.service', import.meta.url), 'utf8');
    const unit = shipped
      .replaceAll('%h/apps/%i', app.root)
      .replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath} ${MFD}`)
      .replace('[Service]\n', `[Service]\nStandardOutput=append:${log}\nStandardError=append:${log}\nEnvironment=T_STARTED=${started} T_WAIT_FOR=${release} USER=deploy\n`);
    await systemd.installUnit('mfd-watch@', unit);
    const name = `mfd-watch@${uniqueUnit('app')}`;
    const watchLog = () => readFile(log, 'utf8').catch(() => '');
    try {
      const start = await systemd.systemctl('start', name);
      assert.equal(start.code, 0, start.stderr);
      await until(() => exists(started), 'the build of the new commit to start');
      // systemctl stop waits for the unit to stop; the build is released once mfd has the SIGTERM.
      const stopping = systemd.systemctl('stop', name);
      await eventually('mfd watch to get the SIGTERM', async () => (/SIGTERM: no more polls/.test(await watchLog()) ? true : undefined));
      await writeFile(release, '');
      const stopped = await stopping;
      assert.equal(stopped.code, 0, stopped.stderr);
      const state = await systemd.systemctl('show', '-p', 'Result', '-p', 'ExecMainStatus', name);
      assert.match(state.stdout, /^Result=success$/m, state.stdout);
      const text = await watchLog();
      assert.match(text, new RegExp(`^info: deployed ${next} `, 'm'));
      assert.doesNotMatch(text, /BUILD_FAILED|quarantined/);
      assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${next}$`));
      const last = JSON.parse((await readFile(join(app.root, '.mfd', 'history.jsonl'), 'utf8')).trim().split('\n').at(-1)!);
      assert.deepEqual([last.sha, last.outcome, last.trigger], [next, 'success', 'poll']);
      assert.equal(await exists(join(app.root, '.mfd-deploy.lock')), false);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- mfd watch's log:\n${await watchLog()}`, { cause: error });
    }
  });
});
