// The deployment lock: `.mfd-deploy.lock` in the app root, JSON naming its holder. Check and take
// are one step (under a short proper-lockfile guard); a live holder keeps it fresh by touching its
// mtime (heartbeat), and a holder that is gone from this host is stale at once.
import { hostname as osHostname } from 'node:os';
import { readFile, rm, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { LockHeldError, type LockOwner } from './errors.ts';
import type { Layout } from './layout.ts';

export type { LockOwner };

export interface LockOptions {
  command: string;
  ref: string | undefined;
  /** A lock whose heartbeat is older than this is stale (default 5 minutes). */
  staleMs: number;
  now: () => number;
  env: Record<string, string | undefined>;
  onStale?: (owner: LockOwner | undefined, why: string) => void;
}

export interface HeldLock {
  owner: LockOwner;
  release(): Promise<void>;
}

export interface LockState {
  owner: LockOwner | undefined;
  /** ms since the last heartbeat (the file's mtime). */
  ageMs: number;
  stale: false | string;
}

export async function acquireLock(layout: Layout, options: LockOptions): Promise<HeldLock> {
  await mkdir(layout.state, { recursive: true });
  const release = await lockfile.lock(layout.root, {
    lockfilePath: join(layout.state, 'lock.guard'),
    realpath: false,
    stale: 10_000,
    retries: { retries: 100, minTimeout: 10, maxTimeout: 100 },
  });
  let owner: LockOwner;
  try {
    const state = await inspectLock(layout, options);
    if (state) {
      if (!state.stale) throw new LockHeldError(state.owner, state.ageMs, layout.lockFile, options.staleMs);
      options.onStale?.(state.owner, state.stale);
      await rm(layout.lockFile, { force: true });
    }
    owner = {
      pid: process.pid,
      pidStart: await processStart(process.pid),
      user: options.env.USER ?? options.env.LOGNAME ?? 'unknown',
      hostname: hostnameOf(options.env),
      timestamp: options.now(),
      command: options.command,
      ref: options.ref ?? null,
    };
    // 'wx' = O_EXCL: even a process that ignores the guard cannot overwrite a lock it did not see.
    await writeFile(layout.lockFile, `${JSON.stringify(owner)}\n`, { flag: 'wx', mode: 0o644 });
  } finally {
    await release();
  }
  const beat = setInterval(() => {
    const t = new Date(options.now());
    // Deleted by hand: keep deploying (the issue asks for it); there is nothing to refresh.
    utimes(layout.lockFile, t, t).catch(() => undefined);
  }, Math.max(50, Math.floor(options.staleMs / 5)));
  beat.unref();
  return {
    owner,
    async release() {
      clearInterval(beat);
      const current = await readOwner(layout);
      // Only remove our own lock: after a takeover it belongs to someone else.
      if (current && current.pid === owner.pid && current.timestamp === owner.timestamp) {
        await rm(layout.lockFile, { force: true });
      }
    },
  };
}

/** The current lock and whether it is stale, or undefined when there is none. */
export async function inspectLock(layout: Layout, options: Pick<LockOptions, 'staleMs' | 'now' | 'env'>): Promise<LockState | undefined> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(layout.lockFile)).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const owner = await readOwner(layout);
  const ageMs = Math.max(0, options.now() - mtimeMs);
  if (!owner) return { owner, ageMs, stale: 'the lock file is unreadable' };
  if (owner.hostname === hostnameOf(options.env)) {
    if (!isAlive(owner.pid)) return { owner, ageMs, stale: `its process ${owner.pid} is gone` };
    const start = await processStart(owner.pid);
    if (owner.pidStart && start && start !== owner.pidStart) {
      return { owner, ageMs, stale: `its pid ${owner.pid} now belongs to another process` };
    }
  }
  if (ageMs > options.staleMs) return { owner, ageMs, stale: `no heartbeat for ${Math.round(ageMs / 1000)}s` };
  return { owner, ageMs, stale: false };
}

async function readOwner(layout: Layout): Promise<LockOwner | undefined> {
  try {
    const parsed = JSON.parse(await readFile(layout.lockFile, 'utf8')) as LockOwner;
    return typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    // Missing, or torn by a crash between create and write: either way it names no live holder.
    return undefined;
  }
}

function hostnameOf(env: Record<string, string | undefined>): string {
  return env.HOSTNAME || osHostname();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22): tells pid reuse apart. */
async function processStart(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
