import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LockBackend, LockState } from '../../src/lock/backend.ts';
import { processStart } from '../../src/sys/process.ts';
import { fileBackend } from '../../src/lock/file.ts';
import { hostLock, resourceLock } from '../../src/lock/names.ts';
import { withDeployLock } from '../../src/lock/policy.ts';
import { LockHeldError } from '../../src/errors/index.ts';
import { LOCK, UNLOCK } from '../../src/commands/lock.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { appFixture } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { exists, holdConfig } from '../helpers/hold.ts';

const identity = { user: 'alice', host: 'web1', pid: process.pid };
const options = { command: 'deploy', ref: 'main', staleMs: 60_000, now: () => Date.now(), identity };
const inspect = { staleMs: 60_000, now: () => Date.now(), host: 'web1' };

describe('the lock backend, through the lock file', () => {
  test('acquire, inspect, list and release a host-wide lock', async (t) => {
    const dir = await tmpRoot(t);
    const backend: LockBackend = fileBackend;
    assert.deepEqual(await backend.list(dir), []);
    const host = await backend.acquire(hostLock(dir), options);
    const pg = await backend.acquire(resourceLock(dir, 'postgres'), options);
    // Files that are no lock of ours (a guard, a stray file) are not listed.
    await writeFile(join(dir, 'marks'), '');
    await writeFile(join(dir, 'resource-redis.lock.guard'), '');
    assert.deepEqual(await backend.list(dir), [hostLock(dir), resourceLock(dir, 'postgres')]);
    const state = await backend.inspect(pg.spec, inspect);
    assert.deepEqual([state?.owner?.pid, state?.owner?.command, state?.stale, state?.alive], [process.pid, 'deploy', false, true]);
    await assert.rejects(backend.acquire(hostLock(dir), options), LockHeldError);
    await backend.release(host);
    await backend.release(pg);
    assert.equal(await backend.inspect(pg.spec, inspect), undefined);
    assert.deepEqual(await backend.list(dir), []);
  });

  test('a held lock\'s heartbeat makes it fresh again', async (t) => {
    const dir = await tmpRoot(t);
    const held = await fileBackend.acquire(hostLock(dir), options);
    t.after(() => fileBackend.release(held));
    const old = new Date(Date.now() - 50_000);
    await utimes(held.spec.file, old, old);
    const before = (await fileBackend.inspect(held.spec, inspect))!.ageMs;
    await held.heartbeat();
    assert.ok((await fileBackend.inspect(held.spec, inspect))!.ageMs < before);
  });

  test('clear removes a lock whoever holds it; listing a dir that does not exist finds none', async (t) => {
    const dir = await tmpRoot(t);
    const spec = resourceLock(dir, 'redis');
    await writeFile(spec.file, JSON.stringify({ pid: 4242, user: 'carol', hostname: 'elsewhere', timestamp: Date.now(), command: 'deploy', ref: null }));
    assert.equal((await fileBackend.inspect(spec, inspect))?.owner?.user, 'carol');
    const seen: (string | undefined)[] = [];
    const cleared = await fileBackend.clear(spec, inspect, (state) => void seen.push(state?.owner?.user));
    assert.deepEqual([seen, cleared?.owner?.user], [['carol'], 'carol'], 'the check saw the lock it removed');
    assert.equal(await fileBackend.inspect(spec, inspect), undefined);
    assert.deepEqual(await fileBackend.list(join(dir, 'missing')), []);
  });

  test('clear looks and removes under the guard a take-over holds: a lock taken meanwhile is judged, never removed unseen', async (t) => {
    const dir = await tmpRoot(t);
    const spec = resourceLock(dir, 'redis');
    // Stale: a holder on this host whose process is gone.
    await writeFile(spec.file, JSON.stringify({ pid: 2 ** 22 + 1, user: 'carol', hostname: inspect.host, timestamp: Date.now(), command: 'deploy', ref: null }));
    // A deploy in the middle of its check-and-take holds the guard (a fresh directory).
    await mkdir(`${spec.file}.guard`);
    let judged: LockState | undefined;
    const clearing = fileBackend.clear(spec, inspect, (state) => {
      judged = state;
      if (state && !state.stale) throw new Error('held');
    });
    // That deploy takes the stale lock over: now ours, alive, then it lets the guard go.
    await writeFile(spec.file, JSON.stringify({ pid: process.pid, pidStart: await processStart(process.pid), user: 'dave', hostname: inspect.host, timestamp: Date.now(), command: 'deploy', ref: null }));
    await rm(`${spec.file}.guard`, { recursive: true });
    await assert.rejects(clearing, /held/);
    assert.equal(judged?.owner?.user, 'dave', 'judged as it is after the take-over');
    assert.equal((await fileBackend.inspect(spec, inspect))?.owner?.user, 'dave', 'the live lock is still there');
  });

  test('the policy takes its locks through the backend it is given, in order, and gives them back in reverse', async (t) => {
    const dir = await tmpRoot(t);
    const calls: string[] = [];
    // The real lock file underneath; only the calls are recorded.
    const recording: LockBackend = {
      ...fileBackend,
      acquire: async (spec, o) => (calls.push(`acquire ${spec.name}`), fileBackend.acquire(spec, o)),
      release: async (held) => (calls.push(`release ${held.spec.name}`), fileBackend.release(held)),
    };
    const locks = [hostLock(dir), resourceLock(dir, 'a'), resourceLock(dir, 'b')];
    const request = { command: 'deploy', ref: undefined, identity, now: () => Date.now(), signal: new AbortController().signal, report: { info: () => undefined, warn: () => undefined }, backend: recording };
    const listed = await withDeployLock(locks, { wait: false, retryIntervalMs: 10, retryAttempts: 0, staleMs: 60_000 }, request, () => fileBackend.list(dir));
    assert.deepEqual(listed, locks);
    assert.deepEqual(calls, ['acquire host', 'acquire resource:a', 'acquire resource:b', 'release resource:b', 'release resource:a', 'release host']);
    assert.deepEqual(await fileBackend.list(dir), []);
  });
});

describe('the lock manager asks the backend for host-wide locks', () => {
  test('mfd lock list shows each host-wide lock by its name; mfd unlock takes a resource by name, and a name that is none is no lock', async (t) => {
    const dir = await tmpRoot(t);
    const app = await appFixture(t, { config: (url) => holdConfig(url, `dir = "${dir}"`) });
    const carol = JSON.stringify({ pid: 4242, user: 'carol', hostname: 'elsewhere', timestamp: Date.now(), command: 'deploy', ref: null });
    const pg = resourceLock(dir, 'postgres');
    for (const spec of [hostLock(dir), pg]) await writeFile(spec.file, carol);
    await writeFile(join(dir, 'notes.lock'), carol);
    const listed = await testContext(app.root, { json: true });
    await LOCK.run(listed.ctx, [], {});
    assert.deepEqual(JSON.parse(listed.stdout()).map((l: { name: string; file: string }) => [l.name, l.file]), [['host', hostLock(dir).file], ['resource:postgres', pg.file]]);

    const none = await testContext(app.root);
    await UNLOCK.run(none.ctx, ['../notes'], {});
    assert.equal(none.stdout().trim(), 'no ../notes lock is held');
    const forced = await testContext(app.root, { requested: { force: true } });
    await UNLOCK.run(forced.ctx, ['postgres'], {});
    assert.match(forced.stdout(), /^removed the resource:postgres lock \(.*resource-postgres\.lock\)$/m);
    assert.deepEqual([await exists(pg.file), await exists(hostLock(dir).file), await exists(join(dir, 'notes.lock'))], [false, true, true]);
  });
});
