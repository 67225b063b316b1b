import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/sys/exec.ts';
import { isRunning, processStart } from '../../src/sys/process.ts';
import { runHealthCheck } from '../../src/steps/health.ts';
import { runBuild } from '../../src/steps/build.ts';
import { BuildFailedError } from '../../src/errors/index.ts';
import { IN_PID_NAMESPACE, testInPidNamespace } from '../helpers/pidns-file.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { until } from '../helpers/hold.ts';

// Everything here signals process groups and hands a freed pid to another process on purpose
// (ns_last_pid), so it runs only inside a private pid namespace, which this file re-runs itself in.
if (!IN_PID_NAMESPACE) {
  testInPidNamespace('exec: process groups, pid reuse and timeouts (inside a private pid namespace)', import.meta.filename);
} else {

  /**
   * A command that leaves a process that left its group (setsid) and keeps its output open: the pid
   * of that process, written to a file, for the test to end it by pid. Its leader exits at once with
   * `exitCode`, or with `stays`, runs on until it is killed.
   */
  async function escaping(t: TestContext, exitCode = 0, stays = false) {
    let file = '';
    const escapedPid = async () => Number((await readFile(file, 'utf8').catch(() => '')).trim()) || undefined;
    // Registered before the temp dir's removal, so it still finds the pid (after hooks run in order).
    t.after(async () => {
      const pid = await escapedPid();
      if (pid) process.kill(pid, 'SIGKILL');
    });
    file = join(await tmpRoot(t), 'escaped.pid');
    const argv = ['sh', '-c', `setsid sh -c 'echo $$ > ${file}; exec sleep 1000' & ${stays ? 'exec sleep 1000' : `exit ${exitCode}`}`];
    return { argv, escapedPid };
  }

  /** `work`, or a failure saying it did not end (a hang past its timeout) within a bounded wait. */
  async function ended<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('still running after 30 s: it hangs')), 30_000);
    });
    try {
      return await Promise.race([work, hung]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs `commands` as a build in a temp dir; the warnings it gave, and a file the commands may write pids to. */
  async function build(t: TestContext, commands: (dir: string) => string[][]) {
    const dir = await tmpRoot(t);
    const warnings: string[] = [];
    const running = runBuild({ dir, commands: commands(dir), baseEnv: process.env, env: {}, logFile: 'build.log', onWarning: (m, h) => warnings.push(`${m} | ${h}`) });
    const pids = async () => (await readFile(join(dir, 'job.pid'), 'utf8')).trim().split('\n').map(Number);
    return { running, warnings, pids };
  }

  describe('build leftovers (private pid namespace)', () => {
    test('a background job a build command leaves in its process group is stopped once the command exits, and the build succeeds', async (t) => {
      // Both jobs hold the command's output open; neither would end for 1000 s.
      const b = await build(t, (dir) => [['sh', '-c', `sleep 1000 & echo $! >> ${dir}/job.pid; sleep 1000 & echo $! >> ${dir}/job.pid; echo done`]]);
      const timings = await ended(b.running);
      assert.equal(timings.length, 1);
      for (const pid of await b.pids()) assert.equal(await isRunning(pid), false, `job ${pid} was stopped`);
      assert.equal(b.warnings.length, 1);
      assert.match(b.warnings[0]!, /^build command \["sh","-c","sleep 1000 & .*"\] left 2 processes running in its process group after it exited: stopped \| .*systemd unit/);
    });

    test('a job that let go of the output and ignores SIGTERM is killed before the build step ends', async (t) => {
      const b = await build(t, (dir) => [['sh', '-c', `(trap '' TERM; exec sleep 1000) >/dev/null 2>&1 & echo $! > ${dir}/job.pid`]]);
      await ended(b.running);
      const [pid] = await b.pids();
      assert.equal(await isRunning(pid!), false, 'the job is gone when the build step returns');
      assert.match(b.warnings.join('\n'), /left 1 process running/);
    });

    test('a failing command\'s jobs are stopped too, and the build fails with its status', async (t) => {
      const b = await build(t, (dir) => [['sh', '-c', `sleep 1000 >/dev/null & echo $! > ${dir}/job.pid; exit 3`]]);
      const err = await ended(b.running).catch((e: unknown) => e);
      assert.ok(err instanceof BuildFailedError, String(err));
      assert.equal(err.exitStatus, 'exit status 3');
      assert.equal(await isRunning((await b.pids())[0]!), false);
      assert.equal(b.warnings.length, 1);
    });

    test('a process that left the command\'s group is not the build\'s to stop, and a command leaving nothing gives no warning', async (t) => {
      // The leader exits once the escaped process has left its group (written its pid from its own session).
      const b = await build(t, (dir) => [['true'], ['sh', '-c', `setsid sh -c 'echo $$ > ${dir}/job.pid; exec sleep 1000' & while ! [ -s ${dir}/job.pid ]; do sleep 0.01; done`]]);
      await ended(b.running);
      const [escaped] = await b.pids();
      t.after(() => process.kill(escaped!, 'SIGKILL'));
      assert.equal(await isRunning(escaped!), true, 'setsid took it out of the group mfd made');
      assert.deepEqual(b.warnings, []);
    });
  });

  describe('exec (private pid namespace)', () => {
    test('an interrupted run never signals its group once the leader is reaped and its pid leads another process\'s group', async (t) => {
      const { argv, escapedPid } = await escaping(t);
      const controller = new AbortController();
      let leader = 0;
      const running = run(argv, { cwd: '/', env: process.env, signal: controller.signal, onSpawn: (pid) => (leader = pid) });
      // The leader exited and was reaped (no /proc entry, not even a zombie's); its output is still held open.
      await until(async () => leader > 0 && (await escapedPid()) !== undefined && (await processStart(leader)) === undefined, 'the leader to be reaped');
      // The freed pid goes to an unrelated process, leading a group of its own (as any daemon or shell job does).
      await writeFile('/proc/sys/kernel/ns_last_pid', String(leader - 1));
      const unrelated = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
      t.after(() => unrelated.kill('SIGKILL'));
      assert.equal(unrelated.pid, leader, 'the unrelated process got the freed pid');

      // The first SIGTERM goes out within abort(); the holder then ends, so the run can end either way.
      controller.abort({ signal: 'SIGTERM', hurry: new AbortController().signal });
      process.kill((await escapedPid())!, 'SIGKILL');
      const result = await running;
      assert.equal(result.outcome.kind, 'aborted');
      assert.equal(await isRunning(unrelated.pid!), true, `process group ${leader} is no longer the run's: it must not be signalled`);
    });

    test('a timeout ends the run, and a health check command, even while a process that left the group holds its output', async (t) => {
      // The leader runs past the timeout: killed with its group, it leaves the escaped process holding the output.
      const { argv, escapedPid } = await escaping(t, 0, true);
      const result = await ended(run(argv, { cwd: '/', env: process.env, timeoutMs: 500 }));
      assert.equal(result.outcome.kind, 'timed-out');
      assert.equal(await isRunning((await escapedPid())!), true, 'the process that left the group is not ours to signal');

      const other = await escaping(t, 1, true);
      const check = await ended(runHealthCheck({ kind: 'command', command: other.argv, timeoutMs: 500, intervalMs: 20, retries: 0, delayMs: 0 }, { cwd: '/', env: process.env }));
      assert.equal(check.ok, false);
      assert.match(check.detail, /timeout after/);
    });
  });
}
