// What a deploy killed with -9 leaves running in its build's process group besides the command
// itself: the copies of [[build.cache]] outputs. The next deploy must stop them before it
// removes the directory they write into.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { mfd, startMfd } from '../helpers/cli.ts';
import { deployInProcess } from '../helpers/context.ts';
import { IN_PID_NAMESPACE, testInPidNamespace } from '../helpers/pidns-file.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { isRunning } from '../../src/sys/process.ts';
import { until } from '../helpers/hold.ts';

// Recovery signals process groups: this file re-runs itself inside a private pid namespace.
if (!IN_PID_NAMESPACE) {
  testInPidNamespace('processes left in a build\'s process group (inside a private pid namespace)', import.meta.filename);
} else {

  /** The record of the deployment of `sha` (the newest, if several), parsed; undefined until written. */
  async function recordOf(root: string, sha: string): Promise<{ name: string; state: string; buildPgid?: number } | undefined> {
    const dir = join(root, '.mfd', 'deployments');
    const file = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(`_${sha}.json`)).sort().at(-1);
    const text = file ? await readFile(join(dir, file), 'utf8').catch(() => '') : '';
    try {
      return text ? JSON.parse(text) : undefined;
    } catch {
      // Read while being replaced: not there yet.
      return undefined;
    }
  }

  describe('process groups a killed deploy left (e2e, private pid namespace)', () => {
    test('the cp processes copying a [[build.cache]] output when the deploy was killed are stopped by the next deploy, and their directory is removed', async (t) => {
      const config = (url: string) => `[repo]\nurl = "${url}"\n[build]\ncommands = [["sh", "install.sh"]]\n[[build.cache]]\ncommand = 0\ninputs = ["lock.txt"]\noutputs = ["node_modules"]\n`;
      const app = await appFixture(t, { config });
      const extra = { 'install.sh': 'mkdir -p node_modules\nfor n in a b c d e f g h; do echo $n > node_modules/$n; done\n', 'lock.txt': 'A\n' };
      await app.commitVersion(1, { extra });
      await deployInProcess(app.root);

      // A cp that says it started (its pid and process group), then copies for ever: the real
      // copy of a large tree, made deterministic. cp is told only PATH, so the path is in the script.
      const tmp = await tmpRoot(t);
      const bin = join(tmp, 'bin');
      const started = join(tmp, 'cp-started');
      await mkdir(bin);
      await writeFile(join(bin, 'cp'), `#!/bin/sh\necho "$$ $(cut -d' ' -f5 /proc/$$/stat)" >> '${started}'\nexec sleep 1000\n`, { mode: 0o755 });
      const copiers = async () => (await readFile(started, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => l.split(' ').map(Number) as [number, number]);

      const next = await app.commitVersion(2, { extra });
      const run = startMfd(['deploy'], { cwd: app.root, env: { PATH: `${bin}:${process.env.PATH}` } });
      t.after(() => run.child.kill('SIGKILL'));
      await until(async () => (await copiers()).length > 0, `a cp to start:\n${run.output()}`);
      const pgid = (await copiers())[0]![1];
      await until(async () => (await recordOf(app.root, next))?.buildPgid === pgid, `the copy's process group ${pgid} to be recorded as the build's: ${JSON.stringify(await recordOf(app.root, next))}`, 10_000);
      const interrupted = (await recordOf(app.root, next))!.name;
      run.child.kill('SIGKILL');
      await run.done;
      for (const [pid] of await copiers()) assert.equal(await isRunning(pid), true, 'the copy outlives mfd: the hazard');

      const last = await app.commitVersion(3, { extra });
      const r = await mfd(['deploy'], { cwd: app.root });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`stopped process group ${pgid}, the build of ${interrupted} its deploy left running`));
      for (const [pid] of await copiers()) assert.equal(await isRunning(pid), false, `cp ${pid} was stopped`);
      assert.ok(!(await readdir(app.root)).includes(interrupted), `${interrupted} removed`);
      assert.equal((await recordOf(app.root, next))!.state, 'failed');
      assert.match(r.stdout + r.stderr, new RegExp(`node_modules reused from mfd_\\d+_[0-9a-f]{40}`));
      assert.equal(await readlink(join(app.root, 'active')), (await recordOf(app.root, last))!.name);
    });

    test('what a build\'s leader left in its group after its deploy was killed is stopped when a member proves it is that build\'s, and otherwise left alone and named', async (t) => {
      const node = JSON.stringify(process.execPath);
      // With T_STARTED: starts members in its own group (`env`: one with the build's environment,
      // `bare`: one without it), says so, and exits once T_RELEASE appears: after its deploy is gone.
      const LEADER = `const { spawn } = require('child_process'); const fs = require('fs');
if (!process.env.T_STARTED) { fs.writeFileSync('built', ''); } else {
  const bare = { stdio: 'ignore', env: { PATH: process.env.PATH } };
  const members = process.env.T_MEMBERS.split(',').map((kind, i) => spawn('sleep', [String(1000 + i)], kind === 'bare' ? bare : { stdio: 'ignore' }).pid);
  fs.writeFileSync(process.env.T_STARTED, JSON.stringify({ leader: process.pid, members }));
  setInterval(() => fs.existsSync(process.env.T_RELEASE) && process.exit(0), 10);
}`;
      const app = await appFixture(t, { config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "leader.js"]]\n` });
      const extra = { 'leader.js': LEADER };
      await app.commitVersion(1, { extra });
      await deployInProcess(app.root);
      const tmp = await tmpRoot(t);
      const stray: number[] = [];
      t.after(() => stray.forEach((pid) => process.kill(pid, 'SIGKILL')));

      /** A deploy of a new commit whose build leaves `members` in its group, killed -9 before its leader exits. */
      const killedDeploy = async (n: number, members: string[]) => {
        const sha = await app.commitVersion(n, { extra });
        const [started, release] = [join(tmp, `started-${n}`), join(tmp, `release-${n}`)];
        const run = startMfd(['deploy'], { cwd: app.root, env: { T_STARTED: started, T_RELEASE: release, T_MEMBERS: members.join(',') } });
        t.after(() => run.child.kill('SIGKILL'));
        await until(async () => (await readFile(started, 'utf8').catch(() => '')) !== '', `the build to start:\n${run.output()}`);
        const build = JSON.parse(await readFile(started, 'utf8')) as { leader: number; members: number[] };
        stray.push(...build.members);
        await until(async () => (await recordOf(app.root, sha))?.buildPgid === build.leader, 'the build\'s group to be recorded');
        run.child.kill('SIGKILL');
        await run.done;
        await writeFile(release, '');
        await until(async () => !(await isRunning(build.leader)), 'the leader to exit');
        for (const pid of build.members) assert.equal(await isRunning(pid), true, 'its members outlive it: the hazard');
        return { ...build, name: (await recordOf(app.root, sha))!.name, run };
      };

      // One member carries the build's environment: the group is proved, and all of it is stopped.
      const proved = await killedDeploy(2, ['env', 'bare']);
      // Only one without it: nothing proves the group is that build's.
      const unproved = await killedDeploy(3, ['bare']);
      assert.match(unproved.run.output(), new RegExp(`stopped process group ${proved.leader} \\(2 processes its exited leader left\\), the build of ${proved.name} its deploy left running`));
      for (const pid of proved.members) assert.equal(await isRunning(pid), false, `member ${pid} stopped`);

      await app.commitVersion(4, { extra });
      const r = await mfd(['deploy'], { cwd: app.root });
      assert.equal(r.code, 0, r.stderr);
      const [bare] = unproved.members;
      assert.match(r.stderr, new RegExp(`did not signal process group ${unproved.leader} recorded for ${unproved.name}: its leader is gone, and process ${bare} left in it cannot be proved to be that build's \\(none has that build's session, start time and MFD_DEPLOYMENT_DIR\\)`));
      assert.equal(await isRunning(bare!), true, 'an unproved process is never signalled');
      const names = await readdir(app.root);
      for (const name of [proved.name, unproved.name]) assert.ok(!names.includes(name), `${name} removed`);
    });
  });
}
