// Stopping a child's process group when the run is interrupted: SIGTERM first, so a build can
// clean up after itself, then SIGKILL once the grace period is over (or at once, on `hurry`).
import { setTimeout as delay } from 'node:timers/promises';

/** How long an interrupted child's group gets between SIGTERM and SIGKILL. */
export const STOP_GRACE_MS = 5000;
const POLL_MS = 20;
const KILL_WAIT_MS = 2000;

/**
 * Resolves once no process of group `pgid` is left. `pgid` must be a group this process created
 * (a detached child's pid) and not yet known to be gone: while any member lives the kernel does
 * not hand the id to another process, and each signal is sent right after seeing the group alive.
 * `ours` says whether the id can still only be that group (exec.ts: its leader is not reaped, or
 * no process has its pid now); once it says no, the group counts as gone and nothing is sent.
 */
export async function stopGroup(
  pgid: number,
  options: { hurry?: AbortSignal; graceMs?: number; ours?: () => boolean; settled?: () => Promise<boolean> } = {},
): Promise<void> {
  if (pgid <= 1) return;
  // Asked before each signal: once the leader is reaped, the id may lead another process's group.
  const signalGroup = (sig: NodeJS.Signals | 0) => (options.ours?.() ?? true) && signalGroupNow(pgid, sig);
  if (!signalGroup('SIGTERM')) return;
  const deadline = performance.now() + (options.graceMs ?? STOP_GRACE_MS);
  let killedAt: number | undefined;
  for (;;) {
    await delay(POLL_MS);
    if (!signalGroup(0)) return;
    // Only zombies left (`settled`): dead, holding nothing, and perhaps reaped by nobody soon.
    if (options.settled && (await options.settled())) return;
    // Still "there" this long after SIGKILL means zombies nobody reaps yet, or a process stuck in
    // the kernel: neither runs any more code, so waiting longer would only hang the clean-up.
    if (killedAt !== undefined && performance.now() - killedAt > KILL_WAIT_MS) return;
    if (options.hurry?.aborted || performance.now() >= deadline) {
      signalGroup('SIGKILL');
      killedAt ??= performance.now();
    }
  }
}

/** Whether any process of group `pgid` is left (signal 0 sends nothing). */
export function groupExists(pgid: number): boolean {
  try {
    return pgid > 1 && signalGroupNow(pgid, 0);
  } catch {
    // EPERM: a member now runs as another user (a setuid build step), so the group is still there.
    return true;
  }
}

/** Sends `sig` to the group; false when the group is gone (ESRCH). */
function signalGroupNow(pgid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}
