// `mfd watch`'s clock: poke the loop, wait for it, then sleep the interval (± jitter, so servers
// polling one forge spread out), doubling the wait after each failed poll up to a cap. It says so
// once when it starts backing off and once when polls are back to normal, never once per poll.
import { setTimeout as delay } from 'node:timers/promises';
import { formatDuration } from '../errors/duration.ts';
import type { Level } from './log.ts';

/** Past this many times the interval, failed polls back off no further. */
export const BACKOFF_FACTOR_CAP = 16;
/** Each wait varies by up to this fraction either way. */
export const JITTER = 0.1;

/** The wait before the next poll after `failures` failed polls in a row; `random` in [0, 1). Pure. */
export function nextWait(intervalMs: number, failures: number, random: number): number {
  const factor = Math.min(BACKOFF_FACTOR_CAP, 2 ** Math.max(0, failures));
  return Math.round(intervalMs * factor * (1 + JITTER * (2 * random - 1)));
}

export interface PollerOptions {
  intervalMs: number;
  /** One poll: poke the loop and wait until it is idle; true when the poll failed (remote, credentials). */
  poll: () => Promise<boolean>;
  /** Polling stops when it aborts (a sleep under way ends at once; a poll under way is the loop's to stop). */
  signal: AbortSignal;
  log: (level: Level, message: string) => void;
  random?: () => number;
}

/** Polls until `signal` aborts. Never throws for a failed poll: that is a state, logged on change. */
export async function runPoller(options: PollerOptions): Promise<void> {
  const { intervalMs, signal, log } = options;
  const random = options.random ?? Math.random;
  let failures = 0;
  while (!signal.aborted) {
    const failed = await options.poll();
    if (signal.aborted) return;
    if (failed) {
      failures++;
      const wait = nextWait(intervalMs, failures, random());
      if (failures === 1) log('warn', `backing off: next poll in ${seconds(wait)}, the wait doubling after each failed poll up to ${seconds(intervalMs * BACKOFF_FACTOR_CAP)}`);
      await sleep(wait, signal);
    } else {
      if (failures > 0) log('info', `polls work again after ${failures} failed: back to every ${seconds(intervalMs)}`);
      failures = 0;
      await sleep(nextWait(intervalMs, 0, random()), signal);
    }
  }
}

const seconds = (ms: number) => formatDuration(ms);

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch((error: unknown) => {
    if ((error as Error).name !== 'AbortError') throw error;
  });
}
