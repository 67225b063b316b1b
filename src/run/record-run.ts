// Runs a deploy or rollback as one recorded Run: the terminal, its log file, its history line and
// the crash-test hook subscribe to its events, and the run's end is an event too, whatever it is.
import type { Context } from '../context.ts';
import { describeFailure } from '../state/best-effort.ts';
import { InterruptedError, MfdError, toFsError } from '../errors/index.ts';
import { openRunLog, runLogSubscriber } from '../state/runlog.ts';
import { pauseAtSteps } from '../sys/testhook.ts';
import { historyLine } from './history-line.ts';
import { notifySubscriber } from '../notify/notify.ts';
import { commitStatusSubscriber } from '../status/subscriber.ts';
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
  // After the history line, so `mfd history` has the run while its statuses are still being sent.
  for (const subscriber of reportingSubscribers(ctx, run, ref, terminal, trigger)) run.subscribe(subscriber);
  const pause = pauseAtSteps({ command, signal: ctx.signal }, ctx.testHook.pauseAt);
  if (pause) run.subscribe(pause);
  await run.handle({ type: 'run-started', runId: run.id, command, trigger, at: start });

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

/**
 * The forge's commit statuses and the notify command, when configured. What they fail at is an
 * error line in the run's log and a warning on the terminal, never the run's outcome.
 */
function reportingSubscribers(ctx: Context, run: Run, ref: string | undefined, terminal: Context['reporter'], trigger: string) {
  const { config } = ctx;
  const report = (message: string, hint?: string) => {
    run.log.write(`error: ${message}\n${hint ? `  hint: ${hint}\n` : ''}`);
    terminal.warn(message, hint);
  };
  // [serve] public_url comes with `mfd serve` (issue #12); read only if this config has it.
  const base = config.status?.targetUrlBase ?? (config as { serve?: { publicUrl?: string } }).serve?.publicUrl?.replace(/\/+$/, '');
  const subscribers = [];
  if (config.status) {
    subscribers.push(commitStatusSubscriber({
      run: { id: run.id, command: run.command, start: run.start, ref, user: ctx.identity.user, host: ctx.identity.host },
      config: config.status, layout: ctx.layout, now: ctx.now, report,
      checks: { health: !!config.health, unit: !!config.systemd.unit },
      ...(base ? { targetUrlBase: base } : {}),
    }));
  }
  if (config.notify) {
    const auth = config.repo.auth;
    const secrets = [auth.kind === 'token' ? auth.token.reveal() : auth.kind === 'basic' ? auth.password.reveal() : '', config.status?.token?.reveal() ?? ''];
    subscribers.push(notifySubscriber({
      run: { id: run.id, command: run.command, app: ctx.root, start: run.start, ref, trigger },
      config: config.notify, env: ctx.env, secrets, report, signal: ctx.signal,
      runUrl: base ? `${base}/runs/${encodeURIComponent(run.id)}` : undefined,
    }));
  }
  return subscribers;
}
