// Errors of the deployment locks: who holds a lock, and refusing to clear a live one.
import { EXIT, MfdError } from './base.ts';

export interface LockOwner {
  pid: number;
  /** Process start time on its host, to tell a reused pid apart. */
  pidStart?: string | undefined;
  user: string;
  hostname: string;
  /** When the lock was taken, ms since the epoch. */
  timestamp: number;
  command: string;
  ref: string | null;
}

export class LockHeldError extends MfdError {
  readonly code = 'LOCK_HELD';
  readonly exitCode = EXIT.lock;
  constructor(
    readonly lockName: string,
    readonly owner: LockOwner | undefined,
    readonly ageMs: number,
    readonly lockFile: string,
    readonly staleMs: number,
    /** The caller's clock (ms since the epoch), for how long the holder has had it. */
    now: number,
  ) {
    const who = owner
      ? `${owner.user}@${owner.hostname} (pid ${owner.pid}, "mfd ${owner.command}${owner.ref ? ` ${owner.ref}` : ''}")` +
        ` since ${formatClock(owner.timestamp)} (${formatAge(ownerAge(owner, ageMs, now))} ago)`
      : 'an unknown holder';
    const expires = Math.max(0, staleMs - ageMs);
    const what = lockName === 'app' ? 'deploy lock' : lockName === 'host' ? 'host deploy lock' : `${lockName.replace(':', ' ')} lock`;
    super(`${what} held by ${who}`, {
      hint:
        `wait for it with --wait; if that process is gone the lock expires in ${formatAge(expires)} without a heartbeat, ` +
        `or clear it with "mfd unlock ${lockName}" (or by hand: rm ${lockFile})`,
    });
  }
}

function ownerAge(owner: LockOwner, fallback: number, now: number): number {
  return Number.isFinite(owner.timestamp) ? Math.max(0, now - owner.timestamp) : fallback;
}

/**
 * A moment in this machine's local time with its offset, `2026-11-23 12:03:04 +01:00`. Not
 * toLocaleString(): its first call loads ICU's locale data, about 115 M instructions (30-40 ms)
 * added to the one line that says who holds a lock.
 */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return 'an unknown time';
  const two = (n: number) => String(n).padStart(2, '0');
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${zone}`;
}

export function formatAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

export class UnlockRefusedError extends MfdError {
  readonly code = 'UNLOCK_REFUSED';
  readonly exitCode = EXIT.lock;
  /**
   * `other-host`: its holder runs elsewhere, so only its heartbeat (`ageMs` old) says it is alive.
   * `unnamed`: an empty lock file kept fresh, as a deploy on a full disk holds it (no owner).
   */
  constructor(readonly lockName: string, readonly owner: LockOwner | undefined, readonly where: 'this-host' | 'other-host' | 'unnamed' = 'this-host', ageMs = 0) {
    const holder = owner ? `${owner.user}@${owner.hostname} pid ${owner.pid} ("mfd ${owner.command}")` : 'a holder it does not name';
    const force = `to remove the lock anyway: mfd unlock ${lockName} --force`;
    super(
      where === 'this-host'
        ? `the ${lockName} lock is held by a live process: ${holder}`
        : where === 'other-host'
          ? `the ${lockName} lock is held from another host: ${holder}, heartbeat ${formatAge(ageMs)} ago`
          : `the ${lockName} lock is held by ${holder} (taken on a full disk), heartbeat ${formatAge(ageMs)} ago`,
      {
        hint: where === 'this-host'
          ? `let it finish, or stop that process; ${force}`
          : where === 'other-host'
            ? `check on ${owner?.hostname} whether that deploy still runs; it turns stale once its heartbeat stops; ${force}`
            : `a deploy or rollback holds it and keeps its heartbeat; it turns stale once that stops ("mfd lock list" shows it); ${force}`,
      },
    );
  }
}

/** Why another user could change the host lock dir: its owner, or its mode (group/other write, no sticky bit). */
export type HostLockDirProblem = { kind: 'owner'; uid: number } | { kind: 'mode'; mode: number };

/**
 * The host lock dir can be changed by a user other than this one and root, so that user could
 * create, replace or remove mfd's lock files there (sshd's StrictModes refuses a home the same way).
 * Exit 10, as the host lock dir being a link is: mfd cannot use a file of its own.
 */
export class HostLockDirUnsafeError extends MfdError {
  readonly code = 'HOST_LOCK_DIR_UNSAFE';
  readonly exitCode = EXIT.fs;
  constructor(readonly dir: string, readonly problem: HostLockDirProblem, readonly uid: number) {
    const fix = `sudo chown root:root ${dir} && sudo chmod 1777 ${dir}`;
    super(
      problem.kind === 'owner'
        ? `cannot use host lock directory ${dir}: it is owned by uid ${problem.uid}, not by this user (uid ${uid}) or root, so that user could create, replace or remove mfd's lock files in it`
        : `cannot use host lock directory ${dir}: it has mode ${problem.mode.toString(8).padStart(4, '0')}, writable by other users without the sticky bit, so any of them could replace or remove mfd's lock files in it`,
      {
        hint: problem.kind === 'owner'
          ? `give it to root, sticky and world-writable as mfd makes it: ${fix} (or remove it, and mfd makes it again)`
          : `make it sticky, so each user may remove only their own lock files: sudo chmod 1777 ${dir} (or chmod go-w ${dir} if only its owner deploys)`,
      },
    );
  }
}
