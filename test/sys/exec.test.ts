import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/sys/exec.ts';
import { isRunning, processStart } from '../../src/sys/process.ts';
import { runHealthCheck } from '../../src/steps/health.ts';
import { IN_PID_NAMESPACE, testInPidNamespace } from '../helpers/pidns-file.ts';
import { tmpRoot } from '../helpers/repo.ts';

// Everything here signals process groups and hands a freed pid to another process on purpose
// (ns_last_pid), so it runs only inside a private pid namespace, which this file re-runs itself in.
if (!IN_PID_NAMESPACE) {
  testInPidNamespace('exec: process groups, pid reuse and timeouts (inside a private pid namespace)', import.meta.filename);
} else {
  async function until(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

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
      timer = setTimeout(() => reject(new Error('still running 30 s after its 500 ms timeout')), 30_000);
    });
    try {
      return await Promise.race([work, hung]);
    } finally {
      clearTimeout(timer);
    }
  }

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
