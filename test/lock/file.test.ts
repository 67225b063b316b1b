import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lutimes, mkdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { lstatSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { acquireLock, inspectLock, type HeldLock } from '../../src/lock/file.ts';
import { processStart } from '../../src/sys/process.ts';
import { layoutOf, type Layout } from '../../src/state/layout.ts';
import { FsLayoutError, LockHeldError } from '../../src/errors/index.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { testContext } from '../helpers/context.ts';
import { until } from '../helpers/hold.ts';
import { STATUS } from '../../src/commands/status.ts';
import { join } from 'node:path';

const appLock = (layout: Layout) => ({ name: 'app', file: layout.lockFile });
/** As a process on `host` (its identity and where it inspects from): the Context supplies both. */
const on = (host: string) => ({ host, identity: { user: 'alice', host, pid: process.pid } });
const base = { command: 'deploy', ref: 'main', staleMs: 60_000, now: () => Date.now(), ...on('web1') };

describe('lock', () => {
  test('the lock file holds pid, user, timestamp, hostname, command and ref, and is removed on release', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    const lock = await acquireLock(appLock(layout), base);
    const owner = JSON.parse(await readFile(layout.lockFile, 'utf8'));
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.user, 'alice');
    assert.equal(owner.hostname, 'web1');
    assert.equal(typeof owner.timestamp, 'number');
    assert.equal(owner.command, 'deploy');
    assert.equal(owner.ref, 'main');
    await lock.release();
    assert.equal(await inspectLock(layout.lockFile, base), undefined);
  });

  test('a live holder makes a second acquire fail with who, when and what to do', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    const lock = await acquireLock(appLock(layout), base);
    t.after(() => lock.release());
    const err = await acquireLock(appLock(layout), base).catch((e: unknown) => e);
    assert.ok(err instanceof LockHeldError);
    assert.equal(err.exitCode, 3);
    assert.match(err.message, new RegExp(`deploy lock held by alice@web1 \\(pid ${process.pid}, "mfd deploy main"\\) since .* \\(\\d+s ago\\)`));
    assert.match(err.hint!, new RegExp(`rm ${layout.lockFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  test('a lock whose process is gone on this host is stale at once and taken over with a warning', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => child.on('exit', r));
    const dead = { pid: child.pid, user: 'bob', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: null };
    await writeFile(layout.lockFile, JSON.stringify(dead));
    const stale: string[] = [];
    const lock = await acquireLock(appLock(layout), { ...base, ...on(hostname()), onStale: (_s, _o, why) => stale.push(why) });
    t.after(() => lock.release());
    assert.match(stale[0]!, /process \d+ is gone/);
  });

  test('a lock whose pid now belongs to another process (a reused pid) is stale', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    // Our own pid is alive, but the recorded start time is not ours: the pid was reused.
    const reused = { pid: process.pid, pidStart: '1', user: 'bob', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: null };
    await writeFile(layout.lockFile, JSON.stringify(reused));
    const state = await inspectLock(layout.lockFile, { ...base, ...on(hostname()) });
    assert.match(String(state?.stale), /now belongs to another process/);
  });

  test('a lock whose holder died but is not yet reaped (a zombie) is stale at once, as recovery judges it', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    // sh starts a short sleep in the background, then becomes a long one, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    t.after(() => parent.kill('SIGKILL'));
    const pid = Number(await new Promise<string>((r) => parent.stdout.once('data', (d: Buffer) => r(d.toString()))));
    const end = Date.now() + 10_000;
    while (!/\) Z /.test(await readFile(`/proc/${pid}/stat`, 'utf8'))) {
      if (Date.now() > end) assert.fail(`process ${pid} never became a zombie`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const zombie = { pid, pidStart: await processStart(pid), user: 'bob', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: null };
    await writeFile(layout.lockFile, JSON.stringify(zombie));
    const state = await inspectLock(layout.lockFile, { ...base, ...on(hostname()) });
    assert.match(String(state?.stale), new RegExp(`its process ${pid} is gone`));
    assert.equal(state?.alive, false);
  });

  test('a lock held by pid 1 (mfd as a container\'s init) is honoured while that process runs', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    const init = { pid: 1, pidStart: await processStart(1), user: 'root', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: null };
    await writeFile(layout.lockFile, JSON.stringify(init));
    const state = await inspectLock(layout.lockFile, { ...base, ...on(hostname()) });
    assert.deepEqual([state?.stale, state?.alive], [false, true]);
  });

  test('a lock whose time no date can hold names no holder: it is stale, and mfd status still reports it', async (t) => {
    const root = await tmpRoot(t);
    await writeFile(join(root, 'mfd.toml'), '[repo]\nurl = "http://127.0.0.1:9/app.git"\n\n[build]\ncommands = []\n');
    const layout = layoutOf(root, process.pid);
    // Finite, so it once passed as a holder, with a fresh heartbeat: every "since" then threw.
    const hostile = { pid: 1, user: 'mallory', hostname: 'elsewhere', timestamp: 1e300, command: 'deploy', ref: null };
    await writeFile(layout.lockFile, JSON.stringify(hostile));
    const state = await inspectLock(layout.lockFile, base);
    assert.equal(state?.owner, undefined);
    assert.match(String(state?.stale), /names no valid holder/);
    const status = await testContext(root);
    await STATUS.run(status.ctx, [], {});
    assert.match(status.stdout(), /^lock: +stale by unknown$/m);
  });

  test('a guard a deploy killed while taking the lock left behind is waited out and taken over, not an internal error', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    // What a kill -9 in the milliseconds between taking the guard and releasing it leaves:
    // proper-lockfile's directory, just made, that nobody will ever remove or refresh.
    await mkdir(`${layout.lockFile}.guard`);
    const lock = await acquireLock(appLock(layout), base);
    t.after(() => lock.release());
    assert.equal(JSON.parse(await readFile(layout.lockFile, 'utf8')).pid, process.pid);
  });

  test('a foreign host lock is honoured while its heartbeat is fresh and taken over once it is old', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    const foreign = { pid: 1, user: 'carol', hostname: 'elsewhere', timestamp: Date.now(), command: 'deploy', ref: null };
    await writeFile(layout.lockFile, JSON.stringify(foreign));
    await assert.rejects(acquireLock(appLock(layout), base), LockHeldError);
    const old = new Date(Date.now() - 120_000);
    await utimes(layout.lockFile, old, old);
    const lock = await acquireLock(appLock(layout), base);
    await lock.release();
  });

  test('a holder keeps its lock fresh with a heartbeat past the stale limit', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    const opts = { ...base, staleMs: 1000, ...on('web1') };
    const started = Date.now();
    const lock = await acquireLock(appLock(layout), opts);
    t.after(() => lock.release());
    // Watch the heartbeat (the lock's age drops each time it is refreshed) until the lock has
    // lived for twice the stale limit; then, just after a beat, another host is still refused.
    let beats = 0;
    let last = 0;
    while (beats < 3 || Date.now() - started < 2 * opts.staleMs) {
      if (Date.now() - started > 20_000) assert.fail(`only ${beats} heartbeats in 20 s`);
      await new Promise((r) => setTimeout(r, 20));
      const age = (await inspectLock(layout.lockFile, opts))!.ageMs;
      if (age < last) beats++;
      last = age;
    }
    await assert.rejects(acquireLock(appLock(layout), { ...opts, ...on('other') }), LockHeldError);
  });

  test('the heartbeat never touches a file through a link put in the lock file\'s place', async (t) => {
    // What the owner of the host lock dir (another user who made /run/lock/mfd first) can do to a held lock.
    const tmp = await tmpRoot(t);
    const layout = layoutOf(tmp, process.pid);
    const victim = join(tmp, 'victim');
    await writeFile(victim, 'not mfd\'s\n');
    const old = new Date(Date.now() - 60_000);
    await utimes(victim, old, old);
    const before = statSync(victim).mtimeMs;
    const lock = await acquireLock(appLock(layout), { ...base, staleMs: 1_000 });
    t.after(() => lock.release());
    await rm(layout.lockFile);
    await symlink(victim, layout.lockFile);
    const linked = new Date(Date.now() - 30_000);
    await lutimes(layout.lockFile, linked, linked);
    const linkBefore = lstatSync(layout.lockFile).mtimeMs;
    // The beats (every 200 ms) go on: wait for one to land.
    await until(async () => lstatSync(layout.lockFile).mtimeMs !== linkBefore || statSync(victim).mtimeMs !== before, 'a heartbeat');
    await lock.heartbeat();
    assert.equal(statSync(victim).mtimeMs, before);
  });

  test('a holder proved alive on this host is never stale, however old its heartbeat looks to a clock that jumped ahead', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    const here = { ...base, ...on(hostname()) };
    const lock = await acquireLock(appLock(layout), here);
    t.after(() => lock.release());
    // The holder's last heartbeat is seconds old on its clock; the clock then stepped an hour ahead.
    const jumped = { ...here, now: () => Date.now() + 3600_000 };
    const state = await inspectLock(layout.lockFile, jumped);
    assert.deepEqual([state?.stale, state?.alive], [false, true]);
    await assert.rejects(acquireLock(appLock(layout), jumped), LockHeldError);
    // Without a start time nothing proves the pid is still the holder: only the heartbeat counts then.
    const { pidStart: _, ...unproved } = JSON.parse(await readFile(layout.lockFile, 'utf8'));
    await writeFile(layout.lockFile, JSON.stringify(unproved));
    assert.match(String((await inspectLock(layout.lockFile, jumped))?.stale), /no heartbeat for 3600s/);
  });

  test('a lock naming pid 0, a negative or non-integer pid, or no valid holder is invalid: stale, never alive', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    const owner = { pid: process.pid, user: 'bob', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: null };
    for (const text of [
      { ...owner, pid: 0 }, { ...owner, pid: -1 }, { ...owner, pid: -process.pid }, { ...owner, pid: 'abc' }, { ...owner, pid: 1.5 },
      { ...owner, timestamp: 'now' }, { ...owner, user: undefined }, null, [], 'garbage',
    ].map((v) => (v === 'garbage' ? '{"pid": 12' : JSON.stringify(v)))) {
      await writeFile(layout.lockFile, text);
      const state = await inspectLock(layout.lockFile, { ...base, ...on(hostname()) });
      assert.equal(state?.owner, undefined, text);
      assert.match(String(state?.stale), /names no valid holder/, text);
      assert.notEqual(state?.alive, true, text);
    }
    // And such a lock is taken over like any stale one.
    const lock = await acquireLock(appLock(layout), base);
    await lock.release();
  });

  /**
   * A holder on web1 that stopped a while (its heartbeat too), so a deploy on web2 judged its lock
   * stale and holds the guard to take it over; the old holder, resuming, gives it back. `meanwhile`,
   * if given, runs once the release has started; then (at once without it) the takeover's removal and exclusive create, as
   * acquireLock makes them, synchronous, so they land before the release ends, as a process running
   * beside it can. The new holder's lock must stay.
   */
  async function releaseDuringTakeover(t: TestContext, meanwhile?: (layout: Layout, old: HeldLock) => Promise<void>): Promise<void> {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    const old = await acquireLock(appLock(layout), base);
    const { default: lockfile } = await import('proper-lockfile');
    const guard = await lockfile.lock(layout.lockFile, { lockfilePath: `${layout.lockFile}.guard`, realpath: false, stale: 10_000 });
    const releasing = old.release();
    if (meanwhile) await meanwhile(layout, old);
    const taker = { ...old.owner, hostname: 'web2', timestamp: old.owner.timestamp + 1 };
    rmSync(layout.lockFile);
    writeFileSync(layout.lockFile, JSON.stringify(taker), { flag: 'wx' });
    await guard();
    await releasing;
    assert.deepEqual(JSON.parse(readFileSync(layout.lockFile, 'utf8')), taker);
  }

  test('a release racing a takeover of its lock leaves the new holder\'s lock in place', async (t) => {
    await releaseDuringTakeover(t);
  });

  test('a release that found its lock still its own waits for a takeover holding the guard, then leaves the new lock', async (t) => {
    await releaseDuringTakeover(t, async (layout, old) => {
      // One turn of the loop: the release has looked (its file, its holder) and now waits for the guard.
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(JSON.parse(readFileSync(layout.lockFile, 'utf8')), old.owner, 'nothing removed while the guard is held');
    });
  });

  test('a lock taken over by the same pid on another host in the same millisecond is not released as ours', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    // mfd as pid 1 of a container on two hosts sharing the app root; a clock that stands still.
    const frozen = Date.now();
    const old = await acquireLock(appLock(layout), { ...base, now: () => frozen });
    const stopped = new Date(frozen - 120_000);
    await utimes(layout.lockFile, stopped, stopped);
    const taker = await acquireLock(appLock(layout), { ...base, ...on('web2'), now: () => frozen });
    t.after(() => taker.release());
    await old.release();
    assert.equal(JSON.parse(readFileSync(layout.lockFile, 'utf8')).hostname, 'web2');
  });

  test('a lock deleted by hand mid-deploy does not break release', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    const lock = await acquireLock(appLock(layout), base);
    await rm(layout.lockFile);
    await lock.release();
  });
  test('an empty lock file is held while its heartbeat is fresh (a full disk) and stale once it stops (a torn create)', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await writeFile(layout.lockFile, '');
    const fresh = await inspectLock(layout.lockFile, base);
    assert.equal(fresh?.stale, false);
    await assert.rejects(acquireLock(appLock(layout), base), LockHeldError);
    // Two heartbeats (staleMs / 5 each) without a touch: nobody holds it.
    const old = new Date(Date.now() - 30_000);
    await utimes(layout.lockFile, old, old);
    assert.match(String((await inspectLock(layout.lockFile, base))?.stale), /empty and has no heartbeat/);
    const lock = await acquireLock(appLock(layout), base);
    await lock.release();
    assert.equal(await inspectLock(layout.lockFile, base), undefined);
  });

  test('a directory in the place of the lock file is a layout error naming it, and is not removed', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.lockFile);
    const err = await acquireLock(appLock(layout), base).catch((e: unknown) => e);
    assert.ok(err instanceof FsLayoutError, String(err));
    assert.equal(err.exitCode, 10);
    assert.equal(err.message, `cannot use lock file ${layout.lockFile}: it is a directory, where mfd keeps a file (EISDIR)`);
    assert.ok((await stat(layout.lockFile)).isDirectory());
  });
});
