// The run's history line as a subscriber: it notes each finished step and, when the run ends,
// appends one line to .mfd/history.jsonl. Best effort: failing to write it must neither fail a
// run that did its work nor hide the error that ended one.
import { appendHistory, type HistoryEntry } from '../state/history.ts';
import { bestEffort } from '../state/best-effort.ts';
import type { Layout } from '../state/layout.ts';
import type { BuildReuse, Subscriber } from '../sys/events.ts';
import type { Run } from './run.ts';

export function historyLine(run: Run, opts: { layout: Layout; user: string; ref: string | undefined; trigger: string }): Subscriber {
  const steps: HistoryEntry['steps'] = [];
  const reused: BuildReuse[] = [];
  return (event) => {
    if (event.type === 'step-finished') steps.push({ step: event.step, ms: Math.round(event.ms), ok: event.outcome === 'ok' });
    if (event.type === 'info' && event.reuse) reused.push(event.reuse);
    if (event.type !== 'run-finished') return;
    const entry: HistoryEntry = {
      runId: run.id, command: run.command, user: opts.user, trigger: opts.trigger, ref: opts.ref ?? null,
      sha: event.sha, deployment: event.deployment,
      start: new Date(run.start).toISOString(), end: new Date(event.at).toISOString(),
      steps: [...steps], outcome: event.outcome, error: event.error, log: run.log.file,
      // Only when something was reused, as older lines (and runs without [[build.cache]]) have none.
      ...(reused.length > 0 ? { reused: [...reused] } : {}),
    };
    return bestEffort(run, 'cannot add this run to .mfd/history.jsonl', '"mfd history" and "mfd status" will not show it', () =>
      appendHistory(opts.layout, entry)).then(() => undefined);
  };
}
