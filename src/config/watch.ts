// The [watch] section: how often `mfd watch` asks the remote for the branch head. Its range is
// checked with the other durations (rules.ts DURATIONS: watch.interval).
import * as z from 'zod/mini';
import { opt, optString } from './shape.ts';
import { lazily } from '../sys/lazy.ts';

export interface WatchConfig {
  /** Between two polls, before jitter and backoff. */
  intervalMs: number;
}

export const WatchSchema = lazily(() => opt(z.strictObject({ interval: optString })));

export function watchOf(ms: { intervalMs: number }): WatchConfig {
  return { intervalMs: ms.intervalMs };
}
