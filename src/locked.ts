// Runs a mutating command (deploy, rollback) under the deployment lock, released in a finally
// whatever happened. A stale lock is reported and taken over.
import type { Context } from './context.ts';
import { acquireLock } from './lock.ts';

export const DEFAULT_LOCK_STALE_MS = 5 * 60_000;

export async function withDeployLock<T>(ctx: Context, command: string, ref: string | undefined, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(ctx.layout, {
    command,
    ref,
    staleMs: DEFAULT_LOCK_STALE_MS,
    now: ctx.now,
    env: process.env,
    onStale: (owner, why) =>
      ctx.reporter.warn(
        `Found stale lock file, removing... (${owner ? `held by ${owner.user}@${owner.hostname} pid ${owner.pid}` : 'no holder'}: ${why})`,
      ),
  });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
