// The lock file, today's LockBackend: JSON naming its holder. Check and take are one step (a short
// proper-lockfile guard, then an O_EXCL create); a live holder keeps it fresh by touching its
// mtime (heartbeat); a holder that is gone from this host is stale at once, and one proved to
// still run there (pid and start time) never is.
import type { Stats } from 'node:fs';
import { lstat, lutimes, open, readdir, readFile, rm, stat } from '../sys/files.ts';
import { lazily } from '../sys/lazy.ts';
import * as z from 'zod/mini';
import { FsLayoutError, FsPermissionError, isDiskFull, LockHeldError, throwIfInterrupted, toFsError, type LockOwner } from '../errors/index.ts';
import { matchProcess, processStart } from '../sys/process.ts';
import type { HeldLock, InspectOptions, LockBackend, LockIdentity, LockOptions, LockState } from './backend.ts';
import { checkHostLockDir } from './host-dir.ts';
import { hostLockOfFile, type LockSpec } from './names.ts';

export type { HeldLock, InspectOptions, LockIdentity, LockOptions, LockOwner, LockSpec, LockState };

/** The lock file as a LockBackend: host-wide locks are the files of the host lock dir. */
export const fileBackend: LockBackend = {
  acquire: acquireLock,
  inspect: (spec, options) => inspectLock(spec.file, options),
  release: (held) => held.release(),
  clear: clearLock,
  async list(dir) {
    checkHostLockDir(dir);
    let files: string[];
    try {
      files = await readdir(dir);
    } catch (error) {
      // A dir that does not exist yet (no app opted in) holds no locks; one this user may not
      // read may hold any: "no locks held" would be a guess, and unlock would act on it.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw hostLockDirError(error, dir);
    }
    return files.sort().flatMap((f) => hostLockOfFile(dir, f) ?? []);
  },
};

/** The host lock dir cannot be listed: a permission problem names the mode every user of it needs. */
function hostLockDirError(error: unknown, dir: string): unknown {
  const fsError = toFsError(error, { path: dir, op: 'read directory' });
  if (!(fsError instanceof FsPermissionError)) return fsError ?? error;
  return new FsPermissionError({ ...fsError.info, hint: `the host lock directory ${dir} is not readable by this user: every user of host-wide locks needs it mode 1777; fix it with: sudo chmod 1777 ${dir}` }, error);
}

export async function acquireLock(spec: LockSpec, options: LockOptions): Promise<HeldLock> {
  // Loaded here, not at the top: `mfd status` and `mfd lock list` only read locks (see scripts/build.mjs).
  const { default: lockfile } = await import('proper-lockfile');
  const release = await takeGuard(lockfile, spec, options);
  let owner: LockOwner;
  let created: CreatedLock;
  try {
    const state = await inspectLock(spec.file, { ...options, host: options.identity.host });
    if (state) {
      if (!state.stale) throw new LockHeldError(spec.name, state.owner, state.ageMs, spec.file, options.staleMs, options.now());
      options.onStale?.(spec, state.owner, state.stale);
      await rm(spec.file, { force: true });
    }
    const { identity } = options;
    owner = {
      pid: identity.pid,
      pidStart: await processStart(identity.pid),
      user: identity.user,
      hostname: identity.host,
      timestamp: options.now(),
      command: options.command,
      ref: options.ref ?? null,
    };
    created = await createLockFile(spec.file, owner, options);
  } finally {
    await release();
  }
  const heartbeat = async () => {
    const t = new Date(options.now());
    // Deleted by hand: keep going (the deploy must finish cleanly); there is nothing to refresh.
    // lutimes: a link put in its place (by the owner of the host lock dir) is touched, never its target.
    await lutimes(spec.file, t, t).catch(() => undefined);
  };
  const beat = setInterval(() => void heartbeat(), heartbeatMs(options.staleMs));
  beat.unref();
  return {
    spec,
    owner,
    heartbeat,
    async release() {
      clearInterval(beat);
      // Not ours (taken over, deleted by hand, its directory gone): nothing to remove or guard.
      if (!(await isOurs(spec.file, owner, created))) return;
      // Looked at again under the guard every takeover (acquire, unlock) takes, so none lands
      // between that look and the removal. No signal: a run ended by Ctrl-C still gives its lock back.
      // Without the guard (a full disk refuses its mkdir; a live process hangs inside it) the look
      // again decides alone, as before: keeping the lock would leave a long-lived `mfd serve`
      // refused by its own lock, proved alive, for ever.
      const unguard = await takeGuard(lockfile, spec, { staleMs: options.staleMs, now: options.now }).catch(() => async () => undefined);
      try {
        if (await isOurs(spec.file, owner, created)) await rm(spec.file, { force: true });
      } finally {
        await unguard();
      }
    },
  };
}

/**
 * Whether the lock file is still the one this holder created: the same file (device and inode)
 * holding the same holder (an inode is soon reused once a takeover removed ours), or still empty
 * when a full disk left it without one. A pid and a time alone match mfd as pid 1 of two hosts' containers.
 */
async function isOurs(file: string, owner: LockOwner, created: CreatedLock): Promise<boolean> {
  // Gone (deleted by hand) or unreadable: not a file of ours to remove.
  const info = await lstat(file).catch(() => undefined);
  if (!info?.isFile() || info.dev !== created.dev || info.ino !== created.ino) return false;
  if (!created.written) return info.size === 0;
  const current = await readOwner(file);
  return current !== undefined && current.pid === owner.pid && current.pidStart === owner.pidStart
    && current.hostname === owner.hostname && current.timestamp === owner.timestamp;
}

/** See LockBackend.clear: under the guard acquireLock takes, so no take-over happens in between. */
async function clearLock(spec: LockSpec, options: InspectOptions, check: (state: LockState | undefined) => void): Promise<LockState | undefined> {
  const { default: lockfile } = await import('proper-lockfile');
  const release = await takeGuard(lockfile, spec, options);
  try {
    const state = await inspectLock(spec.file, options);
    check(state);
    if (state) await rm(spec.file, { force: true });
    return state;
  } finally {
    await release();
  }
}

/** The lock at `file` and whether it is stale, or undefined when there is none. */
export async function inspectLock(file: string, options: InspectOptions): Promise<LockState | undefined> {
  let info: Stats;
  try {
    info = await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // A directory (or fifo) in the lock's place can neither be read nor taken over: say so.
  if (!info.isFile()) throw new FsLayoutError({ code: info.isDirectory() ? 'EISDIR' : 'EEXIST', op: 'use lock file', path: file });
  const owner = await readOwner(file);
  const ageMs = Math.max(0, options.now() - info.mtimeMs);
  if (!owner) {
    // Empty: taken on a full disk (the holder keeps its mtime fresh) or torn by a kill between
    // create and write; without a heartbeat for two beats it is the latter.
    if (info.size === 0 && ageMs <= 2 * heartbeatMs(options.staleMs)) return { owner, ageMs, stale: false, alive: undefined };
    // Otherwise it names no holder that could be alive: nothing to wait for, so stale (never "held, alive").
    return { owner, ageMs, stale: info.size === 0 ? 'the lock file is empty and has no heartbeat' : 'the lock file is unreadable or names no valid holder', alive: undefined };
  }
  let alive: boolean | undefined;
  if (owner.hostname === options.host) {
    // The same proof recovery uses before a signal. A lock written without a start time (by an
    // older mfd, or without /proc) cannot show reuse: its live pid counts as the holder.
    const match = await matchProcess(owner.pid, owner.pidStart);
    if (match.kind === 'gone') return { owner, ageMs, stale: `its process ${owner.pid} is gone`, alive: false };
    if (match.kind === 'reused') return { owner, ageMs, stale: `its pid ${owner.pid} now belongs to another process`, alive: false };
    // Proved to be the holder (pid and start time): it still runs, so its lock is never broken
    // into, whatever the heartbeat's age says (a clock stepped ahead, a holder stopped a while).
    if (match.kind === 'same') return { owner, ageMs, stale: false, alive: true };
    alive = true;
  }
  if (ageMs > options.staleMs) return { owner, ageMs, stale: `no heartbeat for ${Math.round(ageMs / 1000)}s`, alive };
  return { owner, ageMs, stale: false, alive };
}

// A lock file is input: a pid ≤ 0 would make kill(pid, 0) ask about a whole group (or every process).
const OwnerSchema = lazily(() => z.object({
  pid: z.int().check(z.gt(0)),
  pidStart: z.optional(z.string().check(z.regex(/^\d{1,20}$/))),
  user: z.string(),
  hostname: z.string(),
  // ms since the epoch, within what a Date holds (±8.64e15): every "since" of a holder formats it.
  timestamp: z.number().check(z.refine((t) => Math.abs(t) <= 8.64e15, 'expected a time in ms')),
  command: z.string(),
  ref: z.nullable(z.string()),
}));

async function readOwner(file: string): Promise<LockOwner | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    // Missing, or torn by a crash between create and write: either way it names no live holder.
    return undefined;
  }
  const parsed = OwnerSchema().safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** proper-lockfile's stale time for the guard: one a killed process left is removed once this old. */
const GUARD_STALE_MS = 10_000;

/**
 * The short guard around check-and-take. Retried only while another process holds it: proper-
 * lockfile's own retries would also retry an EACCES or ENOSPC 200 times, ten seconds of waiting
 * for a failure that cannot pass. Retried for longer than the guard's stale time: a live holder
 * keeps it for milliseconds, so one still there is a killed process's, and is taken over then.
 */
async function takeGuard(lockfile: typeof import('proper-lockfile'), spec: LockSpec, options: Pick<LockOptions, 'staleMs' | 'now' | 'signal'>): Promise<() => Promise<void>> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await lockfile.lock(spec.file, { lockfilePath: `${spec.file}.guard`, realpath: false, stale: GUARD_STALE_MS, retries: 0 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      // Up to 12 s of waiting: Ctrl-C ends it at once, as it ends any wait for a lock.
      if (options.signal) throwIfInterrupted(options.signal, `while waiting for the ${spec.name} lock; nothing was changed`);
      // Kept fresh past its stale time: a live holder that hangs inside it, as good as holding the lock.
      if (performance.now() - started > GUARD_STALE_MS + 2_000) throw new LockHeldError(spec.name, undefined, 0, spec.file, options.staleMs, options.now());
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * Math.min(45, 5 * attempt)));
    }
  }
}

const heartbeatMs = (staleMs: number) => Math.max(20, Math.floor(staleMs / 5));

/** The file a holder created, to know it again: its device and inode, and whether it names the holder. */
interface CreatedLock {
  dev: number;
  ino: number;
  written: boolean;
}

/**
 * Creates the lock file (O_EXCL: even a process that ignores the guard cannot overwrite a lock it
 * did not see) and writes its holder. On a full disk an empty file can still be
 * created but not written: it is kept as the lock, held but nameless, so a rollback still works.
 * Any other failure removes the file again, so no empty lock is left behind.
 */
async function createLockFile(file: string, owner: LockOwner, options: LockOptions): Promise<CreatedLock> {
  const handle = await open(file, 'wx', 0o644);
  let written = true;
  try {
    try {
      await handle.writeFile(`${JSON.stringify(owner)}\n`);
    } catch (error) {
      written = false;
      if (!isDiskFull(error)) throw toFsError(error, { path: file, op: 'write' }) ?? error;
      options.onWarn?.(
        `no space left to write the holder into ${file} (ENOSPC): the lock is held all the same, showing no holder`,
        'free space on that file system soon',
      );
      await handle.truncate(0).catch(() => undefined); // best effort: a torn half-line reads as no holder anyway
    }
    const { dev, ino } = await handle.stat();
    return { dev, ino, written };
  } catch (error) {
    await handle.close().catch(() => undefined); // closing first, so the rm below really frees the inode
    await rm(file, { force: true });
    throw error;
  } finally {
    await handle.close().catch(() => undefined); // already closed on the error path
  }
}
