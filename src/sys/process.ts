// Facts about other processes on this host: whether a pid is alive, when it started, and proof
// that a pid (or a process group) is still the one mfd wrote down, before anything signals it.
import { readFileSync } from 'node:fs';
import { readdir, readFile } from './files.ts';

/** Linux's PID_MAX_LIMIT: no pid is larger. */
const PID_MAX = 4_194_304;

/** A pid or pgid mfd may ever signal: kill(0) hits our own group, kill(-1) every process, and pid 1 is init. */
export function isSignalable(pid: unknown): pid is number {
  return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 1 && pid <= PID_MAX;
}

export function isAlive(pid: number): boolean {
  // kill(0, 0) and kill(-1, 0) succeed (our own group, every process): never "alive" for those.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the pid exists but belongs to someone else, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Stat {
  /** Field 3: R, S, Z (zombie: dead, not yet reaped), ... */
  state: string;
  /** Field 5: the process group id. */
  pgrp: number;
  /** Field 6: the session id. */
  session: number;
  /** Field 22: start time in clock ticks since boot. */
  start: string;
}

function parseStat(text: string): Stat | undefined {
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, pgrp, session, start] = [fields[0], Number(fields[2]), Number(fields[3]), fields[19]];
  if (!state || !Number.isSafeInteger(pgrp) || !Number.isSafeInteger(session) || !start || !/^\d+$/.test(start)) return undefined;
  return { state, pgrp, session, start };
}

async function readStat(pid: number): Promise<Stat | undefined> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    return parseStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    // ENOENT: no such process (or no /proc): nothing can be proved about it.
    return undefined;
  }
}

/** Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), if readable. */
export async function processStart(pid: number): Promise<string | undefined> {
  return (await readStat(pid))?.start;
}

/**
 * The same, read at once: for a child just spawned, before the event loop can reap it, so the
 * pid cannot yet belong to anything else.
 */
export function processStartSync(pid: number): string | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.start;
  } catch {
    // No /proc, or the child is already gone: no start time, so nobody will ever signal it.
    return undefined;
  }
}

/**
 * Whether `pid` is still the process that started at `start` (clock ticks, as recorded): the one
 * proof of a process's identity, for signalling (proveIdentity) and for lock holders alike.
 * `unrecorded`: the pid runs but no valid start time was written down, so reuse cannot be told.
 * `unreadable`: the pid exists (kill(0) says so) but /proc cannot be read, so nothing is proved.
 */
export type ProcessMatch =
  | { kind: 'same'; pgrp: number }
  | { kind: 'gone' }
  | { kind: 'reused'; start: string }
  | { kind: 'unrecorded' }
  | { kind: 'unreadable' };

export async function matchProcess(pid: number, start: unknown): Promise<ProcessMatch> {
  const stat = await readStat(pid);
  if (!stat) return isAlive(pid) ? { kind: 'unreadable' } : { kind: 'gone' };
  if (isDeadState(stat.state)) return { kind: 'gone' };
  if (typeof start !== 'string' || !/^\d+$/.test(start)) return { kind: 'unrecorded' };
  if (stat.start !== start) return { kind: 'reused', start: stat.start };
  return { kind: 'same', pgrp: stat.pgrp };
}

/** `gone`: no such process is running now, so there is nothing to signal either way. */
export type Identity = { proved: true } | { proved: false; gone: boolean; why: string };

/**
 * Whether `pid` may be signalled as the process that started at `start`, and with `group`, as
 * the leader of its own process group, so that kill(-pid) reaches that group only.
 * A pid or pgid ≤ 1, an unrecorded start time, a dead or reused pid: never proved.
 */
export async function proveIdentity(pid: unknown, start: unknown, opts: { group?: boolean } = {}): Promise<Identity> {
  const no = (why: string, gone = false): Identity => ({ proved: false, gone, why });
  if (!isSignalable(pid)) return no(`${JSON.stringify(pid) ?? 'no pid'} is not a pid mfd may signal`);
  const match = await matchProcess(pid, start);
  switch (match.kind) {
    case 'gone':
      return no(`process ${pid} is gone`, true);
    case 'unreadable':
      return no(`process ${pid} runs, but its start time cannot be read (no /proc)`);
    case 'unrecorded':
      return no(`no start time was recorded for ${pid}`);
    case 'reused':
      return no(`pid ${pid} now belongs to another process (started at tick ${match.start}, not ${String(start)})`);
    case 'same':
      if (opts.group && match.pgrp !== pid) return no(`process ${pid} no longer leads process group ${pid} (it is in ${match.pgrp})`);
      return { proved: true };
  }
}

/**
 * The live processes (zombies not counted) of process group `pgid` now, from /proc; undefined
 * without /proc. Reads every process's stat: ask only once the group is known to exist.
 */
export async function groupMembers(pgid: number): Promise<number[] | undefined> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    // No /proc: nothing can be counted.
    return undefined;
  }
  const members: number[] = [];
  for (const pid of pids.map(Number)) {
    const stat = await readStat(pid);
    if (stat && stat.pgrp === pgid && !isDeadState(stat.state)) members.push(pid);
  }
  return members;
}

/**
 * What is left of process group `pgid` once its leader, which started at tick `start`, is gone:
 * its live members, split into those proved to be of the group mfd made and the rest; undefined
 * without /proc. While any member lives the kernel gives the id to no new process, but once all
 * are gone a new process may get the pid and lead a group of that id. So a member is proved only
 * if it is in session `pgid` too (each of mfd's children leads its own: setsid), started no
 * earlier than the leader, and has `mark` (NAME=value) in its environment: a variable mfd gave
 * that build alone, such as the path of its deployment, which nothing else has a reason to carry.
 */
export async function groupRemnant(pgid: number, start: string, mark: string): Promise<{ proved: number[]; unproved: number[] } | undefined> {
  if (!isSignalable(pgid)) return undefined;
  const members = await groupMembers(pgid);
  if (members === undefined) return undefined;
  const proved: number[] = [];
  const unproved: number[] = [];
  for (const pid of members) {
    const stat = await readStat(pid);
    const ours = stat !== undefined && stat.pgrp === pgid && stat.session === pgid && /^\d+$/.test(start) && BigInt(stat.start) >= BigInt(start) && (await hasEnv(pid, mark));
    (ours ? proved : unproved).push(pid);
  }
  return { proved, unproved };
}

/** Whether `pid`'s environment (as it was exec'd) holds exactly `entry`; false when unreadable (another user's, setuid). */
async function hasEnv(pid: number, entry: string): Promise<boolean> {
  try {
    return `\0${await readFile(`/proc/${pid}/environ`, 'utf8')}`.includes(`\0${entry}\0`);
  } catch {
    // EACCES or gone: nothing is proved.
    return false;
  }
}

/** Whether a process with this pid exists and has not died (a zombie has, it only awaits its reaping). */
export async function isRunning(pid: number): Promise<boolean> {
  const stat = await readStat(pid);
  return stat !== undefined && !isDeadState(stat.state);
}

const isDeadState = (state: string) => state === 'Z' || state === 'X' || state === 'x';
