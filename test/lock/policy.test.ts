import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { mkdir, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { parseConfig } from '../../src/config/config.ts';
import { FsLayoutError, InterruptedError, LockHeldError, UnlockRefusedError } from '../../src/errors/index.ts';
import { LOCK, UNLOCK } from '../../src/commands/lock.ts';
import { RESOLVE } from '../../src/commands/resolve.ts';
import { STATUS } from '../../src/commands/status.ts';
import { deploy } from '../../src/run/deploy.ts';
import { layoutOf } from '../../src/state/layout.ts';
import { acquireLock } from '../../src/lock/file.ts';
import { lockRequest, planLocks, withCacheLock, withDeployLock } from '../../src/lock/policy.ts';
import { cacheLock } from '../../src/lock/names.ts';
import { Reporter } from '../../src/sys/output.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { appFixture, BUILD_COMMANDS } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { assertNoOverlap, commitHold, exists, holdConfig, until } from '../helpers/hold.ts';

function contextFor(root: string, lock: string, signal: AbortSignal) {
  const file = join(root, 'mfd.toml');
  const { config } = parseConfig(`[repo]\nurl = "http://127.0.0.1:1/app.git"\n[build]\ncommands = []\n[lock]\n${lock}\n`, { file });
  const sink = { write: () => undefined };
  const reporter = new Reporter({ mode: 'plain', color: false, verbose: false, stdout: sink, stderr: sink });
  const identity = { user: 'alice', host: 'web1', pid: process.pid };
  return { root, layout: layoutOf(root, process.pid), config, reporter, now: () => Date.now(), signal, identity };
}

describe('locked', () => {
  test('waiting for a held lock through many retries leaves no abort listener behind', async (t) => {
    const root = await tmpRoot(t);
    const controller = new AbortController();
    const ctx = contextFor(root, 'retry_interval = "10ms"\nretry_attempts = 15', controller.signal);
    const holder = await acquireLock({ name: 'app', file: ctx.layout.lockFile }, { command: 'deploy', ref: undefined, staleMs: 60_000, now: Date.now, identity: ctx.identity });
    t.after(() => holder.release());
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    await assert.rejects(withDeployLock(planLocks(ctx.layout, ctx.config.lock), { ...ctx.config.lock, wait: true }, lockRequest(ctx, 'deploy', undefined), async () => 'never'), LockHeldError);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((w) => w === 'MaxListenersExceededWarning'), []);
  });

  test('Ctrl-C while a hung process holds the lock\'s guard stops the wait at once: interrupted, not "lock held" later', async (t) => {
    const root = await tmpRoot(t);
    const controller = new AbortController();
    const ctx = contextFor(root, '', controller.signal);
    // A live holder that hangs inside the short guard, keeping it fresh (proper-lockfile's own update).
    const { default: lockfile } = await import('proper-lockfile');
    const hung = await lockfile.lock(ctx.layout.lockFile, { lockfilePath: `${ctx.layout.lockFile}.guard`, realpath: false, stale: 10_000 });
    t.after(() => hung());
    let ran = false;
    const locked = withDeployLock(planLocks(ctx.layout, ctx.config.lock), { ...ctx.config.lock, wait: false }, lockRequest(ctx, 'deploy', undefined), async () => (ran = true));
    controller.abort({ signal: 'SIGINT', hurry: new AbortController().signal });
    const err = await locked.catch((e: unknown) => e);
    assert.ok(err instanceof InterruptedError, String(err));
    assert.equal(err.exitCode, 130);
    assert.match(err.message, /^interrupted by SIGINT while waiting for the app lock; nothing was changed$/);
    assert.equal(ran, false);
    assert.equal(await exists(ctx.layout.lockFile), false);
  });
});

describe('cache lock wait and the wall clock', () => {
  // A live holder on this host, and a waiter whose wall clock steps by `step` after its first reading.
  async function waiter(t: TestContext, step: number) {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    const identity = { user: 'alice', host: hostname(), pid: process.pid };
    await mkdir(dirname(layout.cacheLockFile), { recursive: true });
    const holder = await acquireLock(cacheLock(layout), { command: 'deploy', ref: undefined, staleMs: 60_000, now: Date.now, identity });
    t.after(() => holder.release());
    let read = 0;
    const now = () => Date.now() + (read++ > 0 ? step : 0);
    const report = { info: () => void holder.release(), warn: () => undefined };
    return { layout, request: { command: 'resolve', ref: undefined, identity, now, signal: new AbortController().signal, report } };
  }

  test('a clock stepped an hour ahead does not end the wait at once: the released lock is taken', async (t) => {
    const { layout, request } = await waiter(t, 3600_000);
    assert.equal(await withCacheLock(layout, 60_000, request, async () => 'ran'), 'ran');
  });

  test('a clock stepped an hour back does not stretch the wait past [lock] stale', { timeout: 30_000 }, async (t) => {
    // The timeout only ends a wait that would last the hour; passing takes [lock] stale (300 ms).
    const { layout, request } = await waiter(t, -3600_000);
    await assert.rejects(withCacheLock(layout, 300, { ...request, report: { info: () => undefined, warn: () => undefined } }, async () => 'ran'), LockHeldError);
  });
});

describe('lock policy with real deploys (in-process)', () => {
  test('with the wait decision only taking the locks is retried: a LockHeldError from the run itself ends it, run once', async (t) => {
    const root = await tmpRoot(t);
    const ctx = contextFor(root, 'retry_interval = "10ms"\nretry_attempts = 3', new AbortController().signal);
    let runs = 0;
    const held = new LockHeldError('cache', undefined, 0, join(root, 'cache.lock'), 60_000, Date.now());
    const err = await withDeployLock(planLocks(ctx.layout, ctx.config.lock), { ...ctx.config.lock, wait: true }, lockRequest(ctx, 'deploy', undefined), async () => {
      runs++;
      throw held;
    }).catch((e: unknown) => e);
    assert.equal(err, held);
    assert.equal(runs, 1, 'the run was started over after it failed on a lock of its own');
    // And the deploy lock was released: the next run takes it at once.
    assert.equal(await withDeployLock(planLocks(ctx.layout, ctx.config.lock), { ...ctx.config.lock, wait: false }, lockRequest(ctx, 'deploy', undefined), async () => 'ran'), 'ran');
  });

  test('with the wait decision, 20 deploys of 20 commits all complete one after another, never overlapping', async (t) => {
    // 19 waiters poll the lock: at 200 ms one of them still takes it within a few ms of its release,
    // for a quarter of the polls (each a few file system calls) that 50 ms cost.
    const app = await appFixture(t, { config: (url) => holdConfig(url, 'retry_interval = "200ms"\nretry_attempts = 500') });
    const shas: string[] = [];
    for (let i = 1; i <= 20; i++) shas.push(await commitHold(app, i));
    const marks = join(app.root, '..', 'marks');
    const runs = await Promise.all(shas.map(() => testContext(app.root, { requested: { wait: true }, env: { T_MARKS: marks, T_HOLD_MS: '20' } })));
    const results = await Promise.all(runs.map((run, i) => deploy(run.ctx, shas[i])));
    assert.deepEqual(results.map((r) => r.sha), shas);
    assert.ok(runs.some((r) => /waiting: deploy lock held by/.test(r.stderr())), 'waits are printed');
    assertNoOverlap(await readFile(marks, 'utf8'), 20);
  });

  test('two apps sharing a resource never build at the same time', async (t) => {
    const lockDir = await tmpRoot(t);
    const lock = `dir = "${lockDir}"\nresources = ["postgres"]\nwait = true\nretry_interval = "50ms"\nretry_attempts = 2000`;
    const a = await appFixture(t, { config: (url) => holdConfig(url, lock) });
    const b = await appFixture(t, { config: (url) => holdConfig(url, lock) });
    await commitHold(a, 1);
    await commitHold(b, 1);
    const marks = join(lockDir, 'marks');
    const runs = await Promise.all([a, b, a, b].map((app, i) => testContext(app.root, { env: { T_MARKS: marks, T_HOLD_MS: '100', T_TAG: `${i}` } })));
    // [lock] wait = true is the decision without any flag.
    assert.ok(runs.every((r) => r.ctx.wait));
    await Promise.all(runs.map((run, i) => deploy(run.ctx, i < 2 ? 'main' : 'main~0')));
    const text = await readFile(marks, 'utf8');
    assertNoOverlap(text, text.trim().split('\n').length / 2);
  });

  test('a host lock dir that is a symbolic link is refused, so nothing is written or removed where it points', async (t) => {
    // /run/lock is world-writable: anyone can make /run/lock/mfd a link before root's first deploy.
    const tmp = await tmpRoot(t);
    const target = join(tmp, 'elsewhere');
    await mkdir(target);
    await writeFile(join(target, 'host.lock'), 'not a lock: a file of someone else\n');
    const lockDir = join(tmp, 'locks');
    await symlink(target, lockDir);
    const app = await appFixture(t, { config: (url) => holdConfig(url, `dir = "${lockDir}"\nhost = true`) });
    await commitHold(app, 1);
    for (const attempt of [async () => deploy((await testContext(app.root)).ctx, undefined), async () => UNLOCK.run((await testContext(app.root)).ctx, ['host'], {})]) {
      const err = await attempt().catch((e: unknown) => e);
      assert.ok(err instanceof FsLayoutError, String(err));
      assert.equal(err.exitCode, 10);
      assert.equal(err.message, `cannot use host lock directory ${lockDir}: it is a symbolic link, which mfd never reads or writes through (ELOOP)`);
      assert.match(err.hint!, new RegExp(`set \\[lock\\] dir to the directory itself, or remove the link: rm ${lockDir}`));
    }
    assert.deepEqual(await readdir(target), ['host.lock']);
    assert.equal(await readFile(join(target, 'host.lock'), 'utf8'), 'not a lock: a file of someone else\n');
    assert.equal(await exists(join(app.root, 'active')), false);
  });

  test('two apps without a shared scope build at the same time', async (t) => {
    const lockDir = await tmpRoot(t);
    const a = await appFixture(t, { config: (url) => holdConfig(url, `dir = "${lockDir}"\nresources = ["redis"]`) });
    const b = await appFixture(t, { config: (url) => holdConfig(url, `dir = "${lockDir}"\nresources = ["postgres"]`) });
    await commitHold(a, 1);
    await commitHold(b, 1);
    // Each build waits for the other's to have started: both finish only if they overlap.
    const sa = join(lockDir, 'started-a');
    const sb = join(lockDir, 'started-b');
    await Promise.all([
      deploy((await testContext(a.root, { env: { T_STARTED: sa, T_WAIT_FOR: sb } })).ctx, undefined),
      deploy((await testContext(b.root, { env: { T_STARTED: sb, T_WAIT_FOR: sa } })).ctx, undefined),
    ]);
  });

  test('the host lock keeps two opted-in apps apart', async (t) => {
    const lockDir = await tmpRoot(t);
    const a = await appFixture(t, { config: (url) => holdConfig(url, `dir = "${lockDir}"\nhost = true`) });
    const b = await appFixture(t, { config: (url) => holdConfig(url, `dir = "${lockDir}"\nhost = true`) });
    await commitHold(a, 1);
    await commitHold(b, 1);
    const gate = join(lockDir, 'gate');
    const started = join(lockDir, 'started');
    const first = deploy((await testContext(a.root, { env: { T_WAIT_FOR: gate, T_STARTED: started } })).ctx, undefined);
    await until(() => exists(started), 'the first build to start');
    const second = await deploy((await testContext(b.root)).ctx, undefined).catch((e: unknown) => e);
    assert.ok(second instanceof LockHeldError, String(second));
    assert.equal(second.exitCode, 3);
    assert.match(second.message, /^host deploy lock held by/);
    await writeFile(gate, 'go');
    await first;
  });

  test('unlock refuses another host\'s lock while its heartbeat is fresh, unless forced; a stale one goes without', async (t) => {
    const app = await appFixture(t, { config: (url) => holdConfig(url) });
    const lock = join(app.root, '.mfd-deploy.lock');
    const foreign = { pid: 4242, user: 'carol', hostname: 'elsewhere', timestamp: Date.now(), command: 'deploy', ref: 'main' };
    await writeFile(lock, JSON.stringify(foreign));
    const refused = await UNLOCK.run((await testContext(app.root)).ctx, [], {}).catch((e: unknown) => e);
    assert.ok(refused instanceof UnlockRefusedError, String(refused));
    assert.equal(refused.exitCode, 3);
    assert.match(refused.message, /^the app lock is held from another host: carol@elsewhere pid 4242 \("mfd deploy"\), heartbeat \d+s ago$/);
    assert.match(refused.hint!, /check on elsewhere .*mfd unlock app --force/);
    assert.equal(await exists(lock), true);
    await UNLOCK.run((await testContext(app.root, { requested: { force: true } })).ctx, [], {});
    assert.equal(await exists(lock), false);

    await writeFile(lock, JSON.stringify(foreign));
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(lock, old, old);
    await UNLOCK.run((await testContext(app.root)).ctx, [], {});
    assert.equal(await exists(lock), false);
  });

  test('unlock refuses an empty lock whose heartbeat is fresh (a holder on a full disk) unless forced', async (t) => {
    const app = await appFixture(t, { config: (url) => holdConfig(url) });
    const lock = join(app.root, '.mfd-deploy.lock');
    // What a deploy on a full disk holds: the lock file, empty, its mtime kept fresh by the holder.
    await writeFile(lock, '');
    const beat = setInterval(() => void utimes(lock, new Date(), new Date()).catch(() => undefined), 100);
    t.after(() => clearInterval(beat));
    const refused = await UNLOCK.run((await testContext(app.root)).ctx, [], {}).catch((e: unknown) => e);
    assert.ok(refused instanceof UnlockRefusedError, String(refused));
    assert.equal(refused.exitCode, 3);
    assert.match(refused.message, /^the app lock is held by a holder it does not name \(taken on a full disk\), heartbeat \d+s ago$/);
    assert.match(refused.hint!, /mfd unlock app --force/);
    assert.equal(await exists(lock), true, 'the held lock is still there');
    await UNLOCK.run((await testContext(app.root, { requested: { force: true } })).ctx, [], {});
    assert.equal(await exists(lock), false);
  });

  test('a lock file naming pid 0 or -1, or garbage, is shown invalid and stale, never alive, and a deploy takes it over', async (t) => {
    const app = await appFixture(t, { config: (url) => holdConfig(url) });
    await commitHold(app, 1);
    const lock = join(app.root, '.mfd-deploy.lock');
    for (const text of [0, -1].map((pid) => JSON.stringify({ pid, user: 'eve', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: null })).concat(['{"pid":'])) {
      await writeFile(lock, text);
      const human = await testContext(app.root);
      await LOCK.run(human.ctx, [], {});
      assert.match(human.stdout(), /^app +unknown holder +\[stale: the lock file is unreadable or names no valid holder\]/m, text);
      const json = await testContext(app.root, { json: true });
      await LOCK.run(json.ctx, [], {});
      const [row] = JSON.parse(json.stdout());
      assert.deepEqual([row.alive, row.owner], [null, null], text);
      const status = await testContext(app.root);
      await STATUS.run(status.ctx, [], {});
      assert.match(status.stdout(), /^lock: +stale by unknown$/m);
    }
    const run = await testContext(app.root);
    await deploy(run.ctx, undefined);
    assert.match(run.stderr(), /Found stale lock file, removing\.\.\./);
  });

  test('a resolve that must fetch waits for the cache lock while its holder lives, then goes on', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    await app.commitVersion(2);
    await deploy((await testContext(app.root)).ctx, undefined);
    // A live holder of the cache lock, as a deploy's fetch would be (same host, so liveness counts).
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    t.after(() => holder.kill('SIGKILL'));
    const lock = join(app.root, '.mfd', 'repo.git.lock');
    await writeFile(lock, JSON.stringify({ pid: holder.pid, user: 'erin', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: 'main' }));
    const listed = await testContext(app.root, { json: true });
    await LOCK.run(listed.ctx, [], {});
    assert.deepEqual(JSON.parse(listed.stdout()).map((l: { name: string; alive: boolean }) => [l.name, l.alive]), [['cache', true]]);

    // A short sha of an older commit needs history the cache lacks: the resolve must fetch.
    const run = await testContext(app.root);
    let settled = false;
    const resolving = RESOLVE.run(run.ctx, [sha.slice(0, 10)], {}).finally(() => (settled = true));
    await until(async () => run.stderr().includes('waiting for the repository cache: cache lock held by erin@'), 'the resolve to wait');
    assert.equal(settled, false, 'it waits instead of failing');
    holder.kill('SIGKILL');
    await resolving;
    assert.equal(run.stdout().trim(), sha);
    assert.equal(await exists(lock), false, 'the lock is released after the fetch');
    // A name needs no fetch and never waits.
    await writeFile(lock, JSON.stringify({ pid: process.pid, user: 'erin', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: null }));
    const byName = await testContext(app.root);
    await RESOLVE.run(byName.ctx, ['main'], {});
    assert.doesNotMatch(byName.stderr(), /waiting/);
  });

  test('a cache lock whose live holder keeps its heartbeat past [lock] stale ends the wait with LOCK_HELD', async (t) => {
    const app = await appFixture(t, {
      config: (url) => `[repo]\nurl = "${url}"\n[build]\n${BUILD_COMMANDS}\n[lock]\nstale = "1s"\n`,
    });
    const sha = await app.commitVersion(1);
    await app.commitVersion(2);
    await deploy((await testContext(app.root)).ctx, undefined);
    const lock = join(app.root, '.mfd', 'repo.git.lock');
    await writeFile(lock, JSON.stringify({ pid: process.pid, user: 'erin', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: null }));
    // The holder's heartbeat, as a live deploy keeps it.
    const beat = setInterval(() => void utimes(lock, new Date(), new Date()).catch(() => undefined), 100);
    t.after(() => clearInterval(beat));
    const run = await testContext(app.root);
    const err = await RESOLVE.run(run.ctx, [sha.slice(0, 10)], {}).catch((e: unknown) => e);
    assert.ok(err instanceof LockHeldError, String(err));
    assert.equal(err.exitCode, 3);
    assert.match(err.message, /^cache lock held by erin@/);
    assert.match(err.hint!, /mfd unlock cache/);
    assert.match(run.stderr(), /waiting for the repository cache/);
  });
});
