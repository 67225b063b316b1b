// Runs a mutating command (deploy, rollback) holding every lock it needs: the app's, then the
// host's, then each shared resource's, always in that order so two deploys can never deadlock.
// All are released together in a finally; with wait mode a held set is retried on an interval.
// Also the cache lock, held only around writes to the cached repository. Locks are taken through
// a LockBackend (the lock file unless the request names another).
import { setTimeout as delay } from 'node:timers/promises';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { mkdir } from '../sys/files.ts';
import { dirname } from 'node:path';
import type { LockConfig } from '../config/config.ts';
import { FsPermissionError, LockHeldError, throwIfInterrupted, toFsError } from '../errors/index.ts';
import type { HeldLock, LockBackend, LockIdentity } from './backend.ts';
import { fileBackend } from './file.ts';
import { checkHostLockDir } from './host-dir.ts';
import { appLock, cacheLock, hostLock, hostLockDir, resourceLock, type LockSpec } from './names.ts';
import type { Layout } from '../state/layout.ts';

/** Who asks for the locks and how to tell them what happens: decisions and values, never the Context. */
export interface LockRequest {
  command: string;
  ref: string | undefined;
  identity: LockIdentity;
  now: () => number;
  signal: AbortSignal;
  /** Waits go to info, a stale lock removed (or a holder left unwritten) to warn. */
  report: { info(message: string): void; warn(message: string, hint?: string): void };
  /** Where the locks are kept; the lock file when not given. */
  backend?: LockBackend;
}

/** A request from anything with an identity, a clock, a signal and a reporter (a Context has all four, and its lock backend). */
export function lockRequest(
  from: { identity: LockIdentity; now: () => number; signal: AbortSignal; reporter: LockRequest['report']; lockBackend?: LockBackend },
  command: string,
  ref: string | undefined,
): LockRequest {
  return { command, ref, identity: from.identity, now: from.now, signal: from.signal, report: from.reporter, backend: from.lockBackend };
}

/** How a held deploy lock is met: `wait` is the decision (--wait or [lock] wait), the rest [lock]. */
export interface DeployLockPolicy {
  wait: boolean;
  retryIntervalMs: number;
  retryAttempts: number;
  staleMs: number;
}

/** Every lock a deploy of this app takes, in the fixed order. Pure but for the default dir. */
export function planLocks(layout: Layout, config: LockConfig): LockSpec[] {
  const specs: LockSpec[] = [appLock(layout)];
  const dir = hostLockDir(config);
  if (config.host) specs.push(hostLock(dir));
  for (const r of config.resources) specs.push(resourceLock(dir, r));
  return specs;
}

/** Runs `fn` holding every lock in `locks` (planLocks' order); all are released when it ends. */
export async function withDeployLock<T>(
  locks: readonly LockSpec[],
  policy: DeployLockPolicy,
  request: LockRequest,
  fn: () => Promise<T>,
): Promise<T> {
  for (const dir of new Set(locks.filter((l) => l.name !== 'app').map((l) => dirname(l.file)))) ensureHostLockDir(dir);
  let held: HeldLock[] | undefined;
  for (let attempt = 1; !held; attempt++) {
    try {
      held = await acquireAll(locks, policy.staleMs, request);
    } catch (error) {
      if (!(error instanceof LockHeldError) || !policy.wait || attempt > policy.retryAttempts) throw error;
      request.report.info(
        `waiting: ${error.message} (attempt ${attempt} of ${policy.retryAttempts}, next try in ${Math.round(policy.retryIntervalMs / 100) / 10}s)`,
      );
      await sleep(policy.retryIntervalMs, request.signal);
      throwIfInterrupted(request.signal, 'while waiting for a lock; nothing was changed');
      if (request.signal.aborted) throw error;
    }
  }
  // Only taking the locks is retried: a LockHeldError from `fn` (the cache lock, say, held past
  // its wait by another process) ends the run, which must not start over from its first step.
  try {
    return await fn();
  } finally {
    for (const lock of held.reverse()) await backendOf(request).release(lock);
  }
}

async function acquireAll(locks: readonly LockSpec[], staleMs: number, request: LockRequest): Promise<HeldLock[]> {
  const held: HeldLock[] = [];
  const { command, ref, identity, now, signal, report } = request;
  try {
    for (const spec of locks) {
      held.push(
        await backendOf(request).acquire(spec, {
          command,
          ref,
          identity,
          staleMs,
          now,
          signal,
          onStale: (s, owner, why) =>
            report.warn(
              `Found stale lock file, removing... (${s.file}, ${owner ? `held by ${owner.user}@${owner.hostname} pid ${owner.pid}` : 'no holder'}: ${why})`,
            ),
          onWarn: (message, hint) => report.warn(message, hint),
        }).catch((error: unknown) => {
          throw spec.name === 'app' ? error : hostLockError(error, dirname(spec.file));
        }),
      );
    }
    return held;
  } catch (error) {
    for (const lock of held.reverse()) await backendOf(request).release(lock);
    throw error;
  }
}

/**
 * Sticky and world-writable like /tmp (mode 1777): apps of different users share it, and none can
 * remove another's lock file. mkdir's mode is cut by the umask, so a directory this run creates
 * is chmod-ed explicitly; one that exists is left as its owner made it (hostLockError explains),
 * if checkHostLockDir finds no other user can change it.
 */
function ensureHostLockDir(dir: string): void {
  mkdirSync(dirname(dir), { recursive: true });
  try {
    mkdirSync(dir, { mode: 0o1777 });
    chmodSync(dir, 0o1777);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // After mkdir: whatever got there first (a link, another user's dir) is what is checked.
  checkHostLockDir(dir);
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
export async function withCacheLock<T>(layout: Layout, staleMs: number, request: LockRequest, fn: () => Promise<T>): Promise<T> {
  const spec = cacheLock(layout);
  const { command, ref, identity, now, signal, report } = request;
  await mkdir(dirname(spec.file), { recursive: true });
  // The wait is measured by the monotonic clock: a step of the wall clock (NTP correcting a
  // freshly booted server) would end it at once or stretch it by the step. `now` is for records.
  const started = performance.now();
  let held: HeldLock | undefined;
  let told = false;
  while (!held) {
    try {
      held = await backendOf(request).acquire(spec, { command, ref, identity, staleMs, now, signal, onWarn: (message, hint) => report.warn(message, hint) });
    } catch (error) {
      if (!(error instanceof LockHeldError)) throw error;
      throwIfInterrupted(signal, 'while waiting for the repository cache; nothing was changed');
      if (performance.now() - started > staleMs || signal.aborted) throw error;
      if (!told) report.info(`waiting for the repository cache: ${error.message}`);
      told = true;
      await sleep(CACHE_POLL_MS, signal);
    }
  }
  try {
    return await fn();
  } finally {
    await backendOf(request).release(held);
  }
}

const backendOf = (request: LockRequest): LockBackend => request.backend ?? fileBackend;
