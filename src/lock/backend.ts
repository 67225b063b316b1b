// What a lock manager does, whatever keeps the locks: take one, look at one, give it back, keep
// it fresh while held, list those that exist. The lock file (file.ts) is the one backend today;
// a PostgreSQL one can sit beside it, and policy.ts and the commands stay as they are.
import type { LockOwner } from '../errors/index.ts';
import type { LockSpec } from './names.ts';

export type { LockOwner, LockSpec };

/** Which process takes a lock (the Context's identity): recorded for others to see. */
export interface LockIdentity {
  user: string;
  host: string;
  pid: number;
}

/** What inspecting a lock needs: a lock of this `host` names a process that can be checked. */
export interface InspectOptions {
  /** A lock whose heartbeat is older than this is stale. */
  staleMs: number;
  now: () => number;
  host: string;
}

export interface LockOptions extends Omit<InspectOptions, 'host'> {
  command: string;
  ref: string | undefined;
  identity: LockIdentity;
  onStale?: (spec: LockSpec, owner: LockOwner | undefined, why: string) => void;
  /** A warning with a hint, e.g. that a full disk left the lock without its holder's name. */
  onWarn?: (message: string, hint: string) => void;
  /** The run's: once aborted (Ctrl-C), a wait to take the lock ends in InterruptedError. */
  signal?: AbortSignal;
}

export interface HeldLock {
  spec: LockSpec;
  owner: LockOwner;
  /** Refreshes the heartbeat now; a backend also does it on its own while the lock is held. */
  heartbeat(): Promise<void>;
  /** Gives the lock back, only if it is still ours (after a takeover it is someone else's). */
  release(): Promise<void>;
}

export interface LockState {
  owner: LockOwner | undefined;
  /** ms since the last heartbeat. */
  ageMs: number;
  stale: false | string;
  /** Whether the holder runs on this host and is alive; undefined for another host. */
  alive: boolean | undefined;
}

export interface LockBackend {
  /** Takes the lock, or throws LockHeldError naming a holder that is not stale. */
  acquire(spec: LockSpec, options: LockOptions): Promise<HeldLock>;
  /** The lock and whether it is stale, or undefined when nobody holds it. */
  inspect(spec: LockSpec, options: InspectOptions): Promise<LockState | undefined>;
  release(held: HeldLock): Promise<void>;
  /**
   * `mfd unlock`: looks at the lock, lets `check` refuse (it throws), and removes it, as one step
   * against `acquire` (a deploy taking over a stale lock meanwhile is never the one removed).
   * Returns the lock as it was, or undefined when there was none.
   */
  clear(spec: LockSpec, options: InspectOptions, check: (state: LockState | undefined) => void): Promise<LockState | undefined>;
  /** The host-wide locks that exist in the scope (the host lock dir), in name order of their keys. */
  list(scope: string): Promise<LockSpec[]>;
}
