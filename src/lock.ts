// One lock file: JSON naming its holder. Check and take are one step (under a short
// proper-lockfile guard, then an O_EXCL create); a live holder keeps it fresh by touching its mtime
// (heartbeat), and a holder that is gone from this host is stale at once.
import { hostname as osHostname } from 'node:os';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { LockHeldError, type LockOwner } from './errors.ts';
import * as z from 'zod/mini';
import { isAlive, processStart } from './process.ts';

export type { LockOwner };

export interface LockSpec {
  /** `app`, `host`, or `resource:<name>`: what the user names in `mfd unlock`. */
  name: string;
  file: string;
}

export interface LockOptions {
  command: string;
  ref: string | undefined;
  /** A lock whose heartbeat is older than this is stale. */
  staleMs: number;
  now: () => number;
  env: Record<string, string | undefined>;
  onStale?: (spec: LockSpec, owner: LockOwner | undefined, why: string) => void;
}

export interface HeldLock {
  spec: LockSpec;
  owner: LockOwner;
  release(): Promise<void>;
}

export interface LockState {
  owner: LockOwner | undefined;
  /** ms since the last heartbeat (the file's mtime). */
  ageMs: number;
  stale: false | string;
  /** Whether the holder runs on this host and is alive; undefined for another host. */
  alive: boolean | undefined;
}

export async function acquireLock(spec: LockSpec, options: LockOptions): Promise<HeldLock> {
  // Loaded here, not at the top: `mfd status` and `mfd lock list` only read locks (see scripts/build.mjs).
  const { default: lockfile } = await import('proper-lockfile');
  const release = await lockfile.lock(spec.file, {
    lockfilePath: `${spec.file}.guard`,
    realpath: false,
    stale: 10_000,
    retries: { retries: 200, minTimeout: 5, maxTimeout: 50, randomize: true },
  });
  let owner: LockOwner;
  try {
    const state = await inspectLock(spec.file, options);
    if (state) {
      if (!state.stale) throw new LockHeldError(spec.name, state.owner, state.ageMs, spec.file, options.staleMs);
      options.onStale?.(spec, state.owner, state.stale);
      await rm(spec.file, { force: true });
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
    await writeFile(spec.file, `${JSON.stringify(owner)}\n`, { flag: 'wx', mode: 0o644 });
  } finally {
    await release();
  }
  const beat = setInterval(() => {
    const t = new Date(options.now());
    // Deleted by hand: keep going (the deploy must finish cleanly); there is nothing to refresh.
    utimes(spec.file, t, t).catch(() => undefined);
  }, Math.max(20, Math.floor(options.staleMs / 5)));
  beat.unref();
  return {
    spec,
    owner,
    async release() {
      clearInterval(beat);
      const current = await readOwner(spec.file);
      // Only remove our own lock: after a takeover it belongs to someone else.
      if (current && current.pid === owner.pid && current.timestamp === owner.timestamp) {
        await rm(spec.file, { force: true });
      }
    },
  };
}

/** The lock at `file` and whether it is stale, or undefined when there is none. */
export async function inspectLock(
  file: string,
  options: Pick<LockOptions, 'staleMs' | 'now' | 'env'>,
): Promise<LockState | undefined> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(file)).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const owner = await readOwner(file);
  const ageMs = Math.max(0, options.now() - mtimeMs);
  // It names no holder that could be alive: nothing to wait for, so stale (never "held, alive").
  if (!owner) return { owner, ageMs, stale: 'the lock file is unreadable or names no valid holder', alive: undefined };
  let alive: boolean | undefined;
  if (owner.hostname === hostnameOf(options.env)) {
    alive = isAlive(owner.pid);
    if (!alive) return { owner, ageMs, stale: `its process ${owner.pid} is gone`, alive };
    const start = await processStart(owner.pid);
    if (owner.pidStart && start && start !== owner.pidStart) {
      return { owner, ageMs, stale: `its pid ${owner.pid} now belongs to another process`, alive: false };
    }
  }
  if (ageMs > options.staleMs) return { owner, ageMs, stale: `no heartbeat for ${Math.round(ageMs / 1000)}s`, alive };
  return { owner, ageMs, stale: false, alive };
}

// A lock file is input: a pid ≤ 0 would make kill(pid, 0) ask about a whole group (or every process).
const OwnerSchema = z.object({
  pid: z.int().check(z.gt(0)),
  pidStart: z.optional(z.string().check(z.regex(/^\d{1,20}$/))),
  user: z.string(),
  hostname: z.string(),
  timestamp: z.number().check(z.refine(Number.isFinite)),
  command: z.string(),
  ref: z.nullable(z.string()),
});

async function readOwner(file: string): Promise<LockOwner | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    // Missing, or torn by a crash between create and write: either way it names no live holder.
    return undefined;
  }
  const parsed = OwnerSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export function hostnameOf(env: Record<string, string | undefined>): string {
  return env.HOSTNAME || osHostname();
}
