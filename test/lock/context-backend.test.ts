// The lock backend is the Context's: a deploy, `mfd status`, a dry run and the lock manager take
// and look at locks only through ctx.lockBackend, so another backend (here a real in-memory one)
// replaces the lock file everywhere and the lock file is never touched.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { memoryLockBackend } from '../helpers/memory-lock.ts';
import { fileBackend } from '../../src/lock/file.ts';
import { appLock } from '../../src/lock/names.ts';
import { DEPLOY } from '../../src/commands/deploy.ts';
import { STATUS } from '../../src/commands/status.ts';
import { LOCK } from '../../src/commands/lock.ts';
import { deploy } from '../../src/run/deploy.ts';
import { LockHeldError } from '../../src/errors/index.ts';

const gone = (file: string) => access(file).then(() => false, () => true);

describe('the Context carries the lock backend', () => {
  test('createContext picks the lock file unless it is given another', async (t) => {
    const app = await appFixture(t);
    assert.equal((await testContext(app.root)).ctx.lockBackend, fileBackend);
    const memory = memoryLockBackend();
    assert.equal((await testContext(app.root, { lockBackend: memory })).ctx.lockBackend, memory);
  });

  test('deploy, status, dry run and lock list use the backend of their Context, never the lock file', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    const memory = memoryLockBackend();
    const { ctx } = await testContext(app.root, { lockBackend: memory });
    const lockFile = appLock(ctx.layout).file;

    // A deploy takes the app lock (and the cache lock around its fetch) from the memory backend.
    const result = await deploy(ctx, undefined);
    assert.equal(result.sha, sha);
    assert.deepEqual(memory.calls.filter((c) => c.endsWith(' app')), ['acquire app', 'release app']);
    assert.ok(memory.calls.includes('acquire cache'), memory.calls.join(', '));

    // Someone else now holds the app lock, in memory only: no lock file exists.
    const other = await memory.acquire(appLock(ctx.layout), {
      command: 'deploy', ref: 'v9', staleMs: 60_000, now: () => Date.now(), identity: { user: 'mallory', host: 'elsewhere', pid: 4242 },
    });
    t.after(() => other.release());
    assert.ok(await gone(lockFile), 'the lock file backend was never used');

    const status = await testContext(app.root, { lockBackend: memory });
    await STATUS.run(status.ctx, [], {});
    assert.match(status.stdout(), /^running: {2}deploy v9 by mallory@elsewhere pid 4242 /m);
    assert.match(status.stdout(), /^lock: {5}held by mallory@elsewhere pid 4242 "mfd deploy"$/m);
    // The same app seen through the lock file: free.
    const plain = await testContext(app.root);
    await STATUS.run(plain.ctx, [], {});
    assert.match(plain.stdout(), /^lock: {5}free$/m);

    const dry = await testContext(app.root, { lockBackend: memory, requested: { dryRun: true } });
    await DEPLOY.run(dry.ctx, [], {});
    assert.match(dry.stdout(), /^lock {6}held: the deploy would wait/m);
    assert.match(dry.stdout(), /^ {10}app: held by mallory@elsewhere pid 4242 "mfd deploy v9"/m);

    const list = await testContext(app.root, { lockBackend: memory });
    await LOCK.run(list.ctx, [], {});
    assert.match(list.stdout(), /^app +mallory@elsewhere pid 4242 "mfd deploy v9"/m);

    const refused = await deploy((await testContext(app.root, { lockBackend: memory })).ctx, undefined).catch((e: unknown) => e);
    assert.ok(refused instanceof LockHeldError, String(refused));
    assert.match(refused.message, /^deploy lock held by mallory@elsewhere/);
    assert.ok(await gone(lockFile));
  });
});
