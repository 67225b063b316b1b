// Runs a mutating command (deploy, rollback) holding every lock it needs: the app's, then the
// host's, then each shared resource's, always in that order so two deploys can never deadlock.
// All are released together in a finally; with wait mode a held set is retried on an interval.
// Also the cache lock, held only around writes to the cached repository.
import { setTimeout as delay } from 'node:timers/promises';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LockConfig } from '../config/config.ts';
import type { Context } from '../context.ts';
import { FsPermissionError, LockHeldError, throwIfInterrupted, toFsError } from '../errors/index.ts';
import { acquireLock, type HeldLock, type LockSpec } from './file.ts';
import type { Layout } from '../state/layout.ts';

/** Where host-wide locks live: /run/lock is a tmpfs, so a reboot clears them, as it should. */
export function hostLockDir(config: LockConfig): string {
  if (config.dir) return config.dir;
  return existsSync('/run/lock') ? '/run/lock/mfd' : '/var/lock/mfd';
}

/** Every lock a deploy of this app takes, in the fixed order. Pure but for the default dir. */
export function planLocks(layout: Layout, config: LockConfig): LockSpec[] {
  const specs: LockSpec[] = [{ name: 'app', file: layout.lockFile }];
  const dir = hostLockDir(config);
  if (config.host) specs.push({ name: 'host', file: join(dir, 'host.lock') });
  for (const r of config.resources) specs.push({ name: `resource:${r}`, file: join(dir, `resource-${r}.lock`) });
  return specs;
}

export async function withDeployLock<T>(
  ctx: Context,
  command: string,
  ref: string | undefined,
  fn: () => Promise<T>,
  opts: { wait?: boolean } = {},
): Promise<T> {
  const lockConfig = ctx.config.lock;
  const specs = planLocks(ctx.layout, lockConfig);
  if (specs.length > 1) ensureHostLockDir(hostLockDir(lockConfig));
  const wait = opts.wait ?? lockConfig.wait;
  for (let attempt = 1; ; attempt++) {
    try {
      const held = await acquireAll(ctx, specs, command, ref);
      try {
        return await fn();
      } finally {
        for (const lock of held.reverse()) await lock.release();
      }
    } catch (error) {
      if (!(error instanceof LockHeldError) || !wait || attempt > lockConfig.retryAttempts) throw error;
      ctx.reporter.info(
        `waiting: ${error.message} (attempt ${attempt} of ${lockConfig.retryAttempts}, next try in ${Math.round(lockConfig.retryIntervalMs / 100) / 10}s)`,
      );
      await sleep(lockConfig.retryIntervalMs, ctx.signal);
      throwIfInterrupted(ctx.signal, 'while waiting for a lock; nothing was changed');
      if (ctx.signal.aborted) throw error;
    }
  }
}

async function acquireAll(ctx: Context, specs: LockSpec[], command: string, ref: string | undefined): Promise<HeldLock[]> {
  const held: HeldLock[] = [];
  try {
    for (const spec of specs) {
      held.push(
        await acquireLock(spec, {
          command,
          ref,
          staleMs: ctx.config.lock.staleMs,
          now: ctx.now,
          env: process.env,
          onStale: (s, owner, why) =>
            ctx.reporter.warn(
              `Found stale lock file, removing... (${s.file}, ${owner ? `held by ${owner.user}@${owner.hostname} pid ${owner.pid}` : 'no holder'}: ${why})`,
            ),
          onWarn: (message, hint) => ctx.reporter.warn(message, hint),
        }).catch((error: unknown) => {
          throw spec.name === 'app' ? error : hostLockError(error, dirname(spec.file));
        }),
      );
    }
    return held;
  } catch (error) {
    for (const lock of held.reverse()) await lock.release();
    throw error;
  }
}

/**
 * Sticky and world-writable like /tmp (mode 1777): apps of different users share it, and none can
 * remove another's lock file. mkdir's mode is cut by the umask, so a directory this run creates
 * is chmod-ed explicitly; one that exists is left as its owner made it (hostLockError explains).
 */
function ensureHostLockDir(dir: string): void {
  mkdirSync(dirname(dir), { recursive: true });
  try {
    mkdirSync(dir, { mode: 0o1777 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  chmodSync(dir, 0o1777);
}

/** EACCES in the host lock dir, usually another user's dir without mode 1777: the mode and the fix. */
function hostLockError(error: unknown, dir: string): unknown {
  const fsError = toFsError(error);
  if (!(fsError instanceof FsPermissionError)) return error;
  const info = statSync(dir, { throwIfNoEntry: false });
  const mode = info ? (info.mode & 0o7777).toString(8).padStart(4, '0') : 'unknown';
  // With 1777 the refusal is the sticky bit's: a stale lock another user left is theirs to remove.
  const hint = mode === '1777'
    ? `a lock file there belongs to another user, and the sticky directory lets only them (or root) remove it: sudo mfd unlock host (or the resource's name)`
    : `the host lock directory ${dir} has mode ${mode} (owner uid ${info?.uid ?? '?'}), not 1777: every user of host-wide locks needs to create files in it; fix it with: sudo chmod 1777 ${dir}`;
  return new FsPermissionError({ ...fsError.info, hint }, error);
}

/** Waits `ms`, or less if `signal` aborts (the caller looks at the signal). Adds no listener that outlives it. */
async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  await delay(ms, undefined, { signal }).catch((error: unknown) => {
    if ((error as Error).name !== 'AbortError') throw error;
  });
}

/** How often a command waiting for the cache lock looks again. */
const CACHE_POLL_MS = 200;

/**
 * Runs `fn` holding the cache lock (.mfd/repo.git.lock). A deploy's fetch writes the cache (and
 * compacts it), and so does `mfd resolve` when a short sha or REF~N needs more history; this
 * keeps a resolve from reading packs a deploy is removing, and two resolves from deepening at
 * once. The work is short, so a held lock is waited for, not an error: a holder that is gone is
 * stale at once (lock/file.ts) and a live one is waited out for up to `[lock] stale`.
 */
export async function withCacheLock<T>(ctx: Context, command: string, ref: string | undefined, fn: () => Promise<T>): Promise<T> {
  const spec: LockSpec = { name: 'cache', file: ctx.layout.cacheLockFile };
  await mkdir(dirname(spec.file), { recursive: true });
  const started = ctx.now();
  let held: HeldLock | undefined;
  let told = false;
  while (!held) {
    try {
      held = await acquireLock(spec, {
        command, ref, staleMs: ctx.config.lock.staleMs, now: ctx.now, env: process.env,
        onWarn: (message, hint) => ctx.reporter.warn(message, hint),
      });
    } catch (error) {
      if (!(error instanceof LockHeldError)) throw error;
      throwIfInterrupted(ctx.signal, 'while waiting for the repository cache; nothing was changed');
      if (ctx.now() - started > ctx.config.lock.staleMs || ctx.signal.aborted) throw error;
      if (!told) ctx.reporter.info(`waiting for the repository cache: ${error.message}`);
      told = true;
      await sleep(CACHE_POLL_MS, ctx.signal);
    }
  }
  try {
    return await fn();
  } finally {
    await held.release();
  }
}
