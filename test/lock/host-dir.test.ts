import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HostLockDirUnsafeError } from '../../src/errors/index.ts';
import { LOCK, UNLOCK } from '../../src/commands/lock.ts';
import { deploy } from '../../src/run/deploy.ts';
import { lockRequest, planLocks, withDeployLock } from '../../src/lock/policy.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { appFixture } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { commitHold, exists, holdConfig } from '../helpers/hold.ts';

const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const POLICY = { wait: false, retryIntervalMs: 10, retryAttempts: 1, staleMs: 60_000 };

/** An app that takes the host lock in `lockDir`; `attempts` are a deploy, `mfd lock list` and `mfd unlock host` of it. */
async function hostLockApp(t: Parameters<typeof tmpRoot>[0], lockDir: string) {
  const app = await appFixture(t, { config: (url) => holdConfig(url, `dir = "${lockDir}"\nhost = true`) });
  await commitHold(app, 1);
  const ctx = async () => (await testContext(app.root)).ctx;
  return {
    app,
    attempts: [
      async () => deploy(await ctx(), undefined),
      async () => LOCK.run(await ctx(), [], {}),
      async () => UNLOCK.run(await ctx(), ['host'], {}),
    ],
    /** Takes and releases every lock the app's deploy takes, as withDeployLock does. */
    async lock() {
      const c = await ctx();
      await withDeployLock(planLocks(c.layout, c.config.lock), POLICY, lockRequest(c, 'deploy', undefined), async () => undefined);
    },
  };
}

/** Every attempt is refused with HostLockDirUnsafeError (exit 10), and the dir and the app are as they were. */
async function assertRefused(app: Awaited<ReturnType<typeof hostLockApp>>, lockDir: string, message: RegExp, hint: RegExp): Promise<void> {
  for (const attempt of app.attempts) {
    const err = await attempt().catch((e: unknown) => e);
    assert.ok(err instanceof HostLockDirUnsafeError, String(err));
    assert.equal(err.code, 'HOST_LOCK_DIR_UNSAFE');
    assert.equal(err.exitCode, 10);
    assert.match(err.message, message);
    assert.match(err.hint!, hint);
  }
  assert.deepEqual(await readdir(lockDir), ['host.lock']);
  assert.equal(await readFile(join(lockDir, 'host.lock'), 'utf8'), 'put here by another user\n');
  assert.equal(await exists(join(lockDir, 'host.lock.guard')), false);
  assert.equal(await exists(join(app.app.root, 'active')), false);
}

// Like sshd's StrictModes: a dir another user may change lets them create, replace or remove
// mfd's lock files (a deploy often runs as root), so it is refused before any is touched.
describe('lock/host-dir', () => {
  test('a host lock dir writable by group or others without the sticky bit is refused before a lock file is touched', async (t) => {
    const tmp = await tmpRoot(t);
    const lockDir = join(tmp, 'locks');
    await mkdir(lockDir);
    await writeFile(join(lockDir, 'host.lock'), 'put here by another user\n');
    const app = await hostLockApp(t, lockDir);
    for (const mode of [0o777, 0o775, 0o757]) {
      await chmod(lockDir, mode);
      const shown = mode.toString(8).padStart(4, '0');
      await assertRefused(app, lockDir,
        new RegExp(`^cannot use host lock directory ${lockDir}: it has mode ${shown}, writable by other users without the sticky bit`),
        new RegExp(`sudo chmod 1777 ${lockDir}`));
    }
  });

  test('a host lock dir of this user or root, not writable by others or sticky, is used', async (t) => {
    const tmp = await tmpRoot(t);
    const lockDir = join(tmp, 'locks');
    await mkdir(lockDir);
    const app = await hostLockApp(t, lockDir);
    for (const mode of [0o700, 0o755, 0o1777, 0o1770]) {
      await chmod(lockDir, mode);
      await app.lock();
      assert.deepEqual(await readdir(lockDir), [], 'released');
    }
  });

  test('a host lock dir owned by another user is refused, even when sticky', { skip: !asRoot && 'needs root to give a directory to another user' }, async (t) => {
    const tmp = await tmpRoot(t);
    const lockDir = join(tmp, 'locks');
    await mkdir(lockDir);
    await writeFile(join(lockDir, 'host.lock'), 'put here by another user\n');
    await chown(lockDir, NOBODY, NOBODY);
    const app = await hostLockApp(t, lockDir);
    // Sticky protects a file from other users, never from the directory's owner.
    for (const mode of [0o755, 0o1777]) {
      await chmod(lockDir, mode);
      await assertRefused(app, lockDir,
        new RegExp(`^cannot use host lock directory ${lockDir}: it is owned by uid ${NOBODY}, not by this user \\(uid 0\\) or root`),
        new RegExp(`sudo chown root:root ${lockDir} && sudo chmod 1777 ${lockDir}`));
    }
  });
});
