// A second, real LockBackend: locks kept in this process's memory, keyed by the lock's name and
// file, with the same rules as the lock file (a live holder refuses, a stale one is taken over).
// Tests give it to a Context to see that commands and runs take their locks from the Context.
import { LockHeldError } from '../../src/errors/index.ts';
import type { HeldLock, InspectOptions, LockBackend, LockOptions, LockOwner, LockSpec, LockState } from '../../src/lock/backend.ts';

interface Entry {
  spec: LockSpec;
  owner: LockOwner;
  /** ms since the epoch of the last heartbeat, on the holder's clock. */
  beat: number;
}

export interface MemoryLockBackend extends LockBackend {
  /** Every acquire and release in order, as `acquire app` / `release app`. */
  readonly calls: string[];
}

/** A fresh, empty in-memory backend. Nothing is shared between two of them. */
export function memoryLockBackend(): MemoryLockBackend {
  const locks = new Map<string, Entry>();
  const calls: string[] = [];
  const key = (spec: LockSpec) => spec.file;
  const stateOf = (entry: Entry, options: Pick<InspectOptions, 'staleMs' | 'now'>): LockState => {
    const ageMs = Math.max(0, options.now() - entry.beat);
    // In memory there is no other host and no process to prove gone: only the heartbeat counts.
    return { owner: entry.owner, ageMs, stale: ageMs > options.staleMs ? `no heartbeat for ${Math.round(ageMs / 1000)}s` : false, alive: undefined };
  };
  const backend: MemoryLockBackend = {
    calls,
    async acquire(spec: LockSpec, options: LockOptions): Promise<HeldLock> {
      const existing = locks.get(key(spec));
      if (existing) {
        const state = stateOf(existing, options);
        if (!state.stale) throw new LockHeldError(spec.name, existing.owner, state.ageMs, spec.file, options.staleMs, options.now());
        options.onStale?.(spec, existing.owner, state.stale);
      }
      const { identity } = options;
      const owner: LockOwner = { pid: identity.pid, user: identity.user, hostname: identity.host, timestamp: options.now(), command: options.command, ref: options.ref ?? null };
      const entry: Entry = { spec, owner, beat: options.now() };
      locks.set(key(spec), entry);
      calls.push(`acquire ${spec.name}`);
      return {
        spec,
        owner,
        async heartbeat() {
          if (locks.get(key(spec)) === entry) entry.beat = options.now();
        },
        async release() {
          // Only our own entry: after a takeover the lock is someone else's.
          if (locks.get(key(spec)) === entry) locks.delete(key(spec));
          calls.push(`release ${spec.name}`);
        },
      };
    },
    async inspect(spec, options) {
      const entry = locks.get(key(spec));
      return entry ? stateOf(entry, options) : undefined;
    },
    release: (held) => held.release(),
    async clear(spec, options, check) {
      const entry = locks.get(key(spec));
      const state = entry ? stateOf(entry, options) : undefined;
      check(state);
      locks.delete(key(spec));
      return state;
    },
    async list(scope) {
      return [...locks.values()].map((e) => e.spec).filter((s) => s.name !== 'app' && s.name !== 'cache' && s.file.startsWith(`${scope}/`)).sort((a, b) => a.file.localeCompare(b.file));
    },
  };
  return backend;
}
