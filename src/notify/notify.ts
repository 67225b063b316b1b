// [notify] as a subscriber of a run's events: when the run ends, the configured command (argv,
// never a shell) runs with MFD_OUTCOME, MFD_SHA, MFD_REF, MFD_APP, MFD_MESSAGE and MFD_RUN_URL,
// bounded by its timeout. Its failure is a logged line, never the run's; it never sees a secret.
import { basename } from 'node:path';
import type { NotifyConfig } from '../config/notify.ts';
import { redact } from '../errors/redact.ts';
import { interruptionOf } from '../errors/run.ts';
import type { RunEvent, RunOutcome, Subscriber } from '../sys/events.ts';
import { describeOutcome, run as exec } from '../sys/exec.ts';
import { FULL_SHA, short } from '../status/describe.ts';
import { SECRET_VARS } from '../config/secret.ts';


export interface NotifyRun {
  id: string;
  command: 'deploy' | 'rollback';
  /** The app root. */
  app: string;
  /** ms since the epoch. */
  start: number;
  ref: string | undefined;
  /** What started the run (the deploy loop passes one); none or "manual": someone typed it. */
  trigger: string | undefined;
}

export interface NotifyOptions {
  run: NotifyRun;
  config: NotifyConfig;
  env: Readonly<Record<string, string | undefined>>;
  /** Values of the config's secrets: a variable holding one is left out too, whatever its name. */
  secrets: readonly string[];
  runUrl: string | undefined;
  report: (message: string, hint?: string) => void;
  /** The run's signal (Ctrl-C, SIGTERM): one that comes while the command runs stops it. */
  signal?: AbortSignal;
}

/** Whether a run that ended so is one the config asks to be told of (README "Notifications"). */
export function wanted(config: NotifyConfig, outcome: RunOutcome, trigger: string | undefined): boolean {
  if (outcome === 'refused') return false;
  if ((trigger === undefined || trigger === 'manual') && !config.manual) return false;
  return config.outcomes.has(outcome === 'success' ? 'success' : 'failure');
}

export function notifySubscriber(opts: NotifyOptions): Subscriber {
  const { run } = opts;
  let resolved: { ref: string; sha: string } | undefined;
  return async (event: RunEvent) => {
    if (event.type === 'resolved') resolved = { ref: event.ref, sha: event.sha };
    if (event.type !== 'run-finished' || !wanted(opts.config, event.outcome, run.trigger)) return;
    const sha = event.sha ?? resolved?.sha ?? (run.ref && FULL_SHA.test(run.ref) ? run.ref : '');
    const ref = run.ref ?? resolved?.ref ?? '';
    const seconds = Math.max(0, Math.round((event.at - run.start) / 1000));
    const message = event.outcome === 'success'
      ? `${run.command === 'rollback' ? 'rolled back to' : 'deployed'} ${short(sha)}${ref && ref !== sha ? ` (${ref})` : ''} in ${seconds}s`
      : `${run.command} ${event.outcome}: ${event.error?.message ?? event.outcome}`;
    const secret = new Set(opts.secrets.filter((s) => s !== ''));
    const remove = [...SECRET_VARS, ...Object.entries(opts.env).filter(([, v]) => v !== undefined && secret.has(v.trim())).map(([k]) => k)];
    const env = {
      ...opts.env,
      MFD_OUTCOME: event.outcome === 'success' ? 'success' : 'failure',
      MFD_RESULT: event.outcome,
      MFD_SHA: sha,
      MFD_REF: ref,
      MFD_APP: basename(run.app),
      MFD_MESSAGE: redact(message.split('\n')[0]!).slice(0, 1000),
      MFD_RUN_ID: run.id,
      MFD_RUN_URL: opts.runUrl ?? '',
      MFD_TRIGGER: run.trigger ?? 'manual',
    };
    const stop = stopSignal(opts.signal);
    const result = await exec(opts.config.command, { cwd: run.app, env, envRemove: remove, timeoutMs: opts.config.timeoutMs, tailLines: 5, ...(stop ? { signal: stop.signal } : {}) })
      .catch((error: unknown) => ({ ok: false as const, failed: error instanceof Error ? error.message : String(error) }))
      .finally(() => stop?.dispose());
    if (result.ok) return;
    // Masked before lastLine cuts the output: a secret the cut goes through would leave its first part.
    const mask = (text: string) => [...secret].reduce((out, s) => out.split(s).join('***'), text);
    const why = 'failed' in result ? `could not run: ${result.failed}` : `failed with ${describeOutcome(result.outcome)}${lastLine(mask(result.tail))}`;
    const masked = mask(redact(why));
    opts.report(`notify command ${JSON.stringify(opts.config.command)} ${masked}`, 'the run\'s outcome is unchanged; check [notify] command by running it by hand');
  };
}

/**
 * What stops the command as a build command is stopped: a signal that comes while it runs. One
 * that ended the run already is what the command is told of; only a second one (`hurry`) stops it.
 */
function stopSignal(signal: AbortSignal | undefined): { signal: AbortSignal; dispose: () => void } | undefined {
  if (!signal) return undefined;
  if (!signal.aborted) return { signal, dispose: () => undefined };
  const hurry = interruptionOf(signal)?.hurry;
  if (!hurry) return undefined;
  const stop = new AbortController();
  const onHurry = () => stop.abort(signal.reason);
  if (hurry.aborted) onHurry();
  else hurry.addEventListener('abort', onHurry, { once: true });
  return { signal: stop.signal, dispose: () => hurry.removeEventListener('abort', onHurry) };
}

function lastLine(tail: string): string {
  const line = tail.trim().split('\n').pop()?.trim();
  return line ? `: ${line.slice(0, 200)}` : '';
}
