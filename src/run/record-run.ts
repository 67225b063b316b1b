// Runs a deploy or rollback as one recorded Run: the terminal, its log file, its history line and
// the crash-test hook subscribe to its events, and the run's end is an event too, whatever it is.
import type { Context } from '../context.ts';
import { describeFailure } from '../state/best-effort.ts';
import { InterruptedError, MfdError, toFsError } from '../errors/index.ts';
import { openRunLog, runLogSubscriber } from '../state/runlog.ts';
import { pauseAtSteps } from '../sys/testhook.ts';
import { historyLine } from './history-line.ts';
import { outcomeOf } from './outcome.ts';
import { Run, type RunCommand } from './run.ts';

/** Runs `fn` with a Context whose reporter is the new Run; returns what it returns, rethrows what it throws. */
export async function recordRun<T extends { sha: string; deployment: string }>(
  ctx: Context,
  command: RunCommand,
  ref: string | undefined,
  fn: (ctx: Context, run: Run) => Promise<T>,
  /** For the history line: "manual" (a command typed), "poll", "webhook <delivery id>". */
  trigger = 'manual',
): Promise<T> {
  const start = ctx.now();
  const terminal = ctx.reporter;
  // Later, not inside the write: the line that failed may be the first of a warning and its hint
  // (and a log that cannot be created fails before the Run exists).
  const log = openRunLog(ctx.layout, start, command, ctx.identity.pid, (error) => queueMicrotask(() => {
    const { message, hint } = describeFailure(error, { path: log.file, op: 'write', root: ctx.layout.root });
    run.warn(`cannot keep this run's log: ${message}`, `the run goes on without it${hint ? `; ${hint}` : ''}`);
  }));
  const run = new Run({ id: log.runId, command, app: ctx.root, start, log });
  // In this order: the terminal shows a line before the log keeps it, and the test hook pauses last.
  run.subscribe((event) => terminal.handle(event));
  run.subscribe(runLogSubscriber(log));
  run.subscribe(historyLine(run, { layout: ctx.layout, user: ctx.identity.user, ref, trigger }));
  const pause = pauseAtSteps({ command, signal: ctx.signal }, ctx.testHook.pauseAt);
  if (pause) run.subscribe(pause);

  try {
    const result = await fn({ ...ctx, reporter: run }, run);
    await run.finish({ outcome: 'success', sha: result.sha, deployment: result.deployment, error: null, at: ctx.now() });
    return result;
  } catch (error) {
    const known = toFsError(error) ?? error;
    const code = known instanceof MfdError ? known.code : 'INTERNAL';
    // An interruption after activation still says what it left active.
    const active = error instanceof InterruptedError ? error.active : undefined;
    const message = known instanceof Error ? known.message.split('\n')[0]! : String(known);
    await run.finish({ outcome: outcomeOf(error), sha: active?.sha ?? null, deployment: active?.deployment ?? null, error: { code, message }, at: ctx.now() });
    throw error;
  }
}
