import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { isAlive, isSignalable, processStart, processStartSync, proveIdentity } from '../../src/sys/process.ts';

// Children that end when their stdin closes: nothing here needs to signal anything.
function child(options: { detached: boolean }): ChildProcess {
  const c = spawn(process.execPath, ['-e', 'process.stdin.resume(); process.stdin.on("end", () => process.exit(0))'], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: options.detached,
  });
  return c;
}

async function end(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return;
  const exited = once(c, 'exit');
  c.stdin!.end();
  await exited;
}

describe('process', () => {
  test('no pid or pgid ≤ 1, nor a non-integer or one past PID_MAX_LIMIT, may ever be signalled', () => {
    for (const bad of [1, 0, -1, -42, 1.5, Number.NaN, Infinity, 2 ** 40, '123', 'abc', null, undefined, {}]) {
      assert.equal(isSignalable(bad), false, String(bad));
    }
    assert.equal(isSignalable(2), true);
    assert.equal(isSignalable(4_194_304), true);
  });

  test('isAlive is false for 0 and negative pids (kill(0, 0) would ask about our own group)', () => {
    for (const pid of [0, -1, -process.pid, 1.5]) assert.equal(isAlive(pid), false, String(pid));
    assert.equal(isAlive(process.pid), true);
  });

  test('the start time read at spawn proves a child; a different one, or none, does not', async (t) => {
    const c = child({ detached: false });
    t.after(() => end(c));
    const start = processStartSync(c.pid!);
    assert.match(String(start), /^\d+$/);
    assert.equal(await processStart(c.pid!), start);
    assert.deepEqual(await proveIdentity(c.pid, start), { proved: true });
    const wrong = await proveIdentity(c.pid, String(Number(start) + 1));
    assert.equal(wrong.proved, false);
    assert.match(!wrong.proved ? wrong.why : '', /now belongs to another process/);
    const none = await proveIdentity(c.pid, undefined);
    assert.match(!none.proved ? none.why : '', /no start time was recorded/);
  });

  test('a process group is proved only while the recorded leader still leads it', async (t) => {
    const leader = child({ detached: true });
    const member = child({ detached: false });
    t.after(() => Promise.all([end(leader), end(member)]));
    const leaderStart = processStartSync(leader.pid!);
    assert.deepEqual(await proveIdentity(leader.pid, leaderStart, { group: true }), { proved: true });
    // Not detached: it sits in the test runner's group, so -pid names no group of its own.
    const notLeader = await proveIdentity(member.pid, processStartSync(member.pid!), { group: true });
    assert.equal(notLeader.proved, false);
    assert.match(!notLeader.proved ? notLeader.why : '', /no longer leads process group/);
  });

  test('a pid that has exited is gone, whatever start time was recorded', async () => {
    const c = child({ detached: true });
    const start = processStartSync(c.pid!);
    await end(c);
    const gone = await proveIdentity(c.pid, start, { group: true });
    assert.equal(gone.proved, false);
    assert.equal(!gone.proved && gone.gone, true);
  });

  test('bogus pids are refused before /proc is even read', async () => {
    for (const bad of [1, 0, -1, 'abc', 2 ** 40]) {
      const r = await proveIdentity(bad, '12345', { group: true });
      assert.equal(r.proved, false);
      assert.match(!r.proved ? r.why : '', /is not a pid mfd may signal/);
    }
  });
});
