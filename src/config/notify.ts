// The [notify] section: a command (argv, never a shell) run after a run ends, which runs' ends it
// is told of (`on`), and how long it may take.
import * as z from 'zod/mini';
import { parseDuration } from './duration.ts';
import { describeValue } from './issue.ts';
import { programProblem } from './rules.ts';
import { opt, type Add, optString } from './shape.ts';
import { lazily } from '../sys/lazy.ts';

export type NotifyWhen = 'failure' | 'success' | 'manual';

export interface NotifyConfig {
  command: string[];
  /** Which outcomes: both when `on` names neither. */
  outcomes: ReadonlySet<'failure' | 'success'>;
  /** Manual runs (mfd deploy / rollback typed by someone) too, not only automatic ones. */
  manual: boolean;
  timeoutMs: number;
}

export const NotifySchema = lazily(() => opt(
  z.strictObject({
    command: z.array(z.string()).check(z.minLength(1)),
    on: opt(z.array(z.enum(['failure', 'success', 'manual']))),
    timeout: optString,
  }),
));
type ParsedNotify = NonNullable<z.infer<ReturnType<typeof NotifySchema>>>;

const TIMEOUT = { defaultMs: 30_000, minMs: 1_000, maxMs: 10 * 60_000 };

export function notifyOf(n: ParsedNotify, add: Add): NotifyConfig {
  const problem = programProblem(n.command[0]);
  if (problem) add(['notify', 'command', 0], problem);
  let timeoutMs = TIMEOUT.defaultMs;
  if (n.timeout !== undefined) {
    try {
      timeoutMs = parseDuration(n.timeout);
      if (timeoutMs < TIMEOUT.minMs || timeoutMs > TIMEOUT.maxMs) add(['notify', 'timeout'], `expected a duration from 1s to 10m, got ${describeValue(n.timeout)}`);
    } catch (error) {
      add(['notify', 'timeout'], (error as Error).message);
    }
  }
  const on = new Set(n.on ?? []);
  const outcomes = new Set((['failure', 'success'] as const).filter((o) => on.has(o)));
  return { command: n.command, outcomes: outcomes.size > 0 ? outcomes : new Set(['failure', 'success']), manual: on.has('manual'), timeoutMs };
}
