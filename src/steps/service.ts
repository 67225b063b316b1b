// systemctl for the app's unit: argv builders (pure) and the restart / status actions via exec.ts.
// Scope "user" means `systemctl --user`: rootless apps run as user services (and the tests).
// Every call is bounded: a service manager that does not answer is a SystemctlTimeoutError, never a wait.
import { RestartFailedError, SystemctlTimeoutError } from '../errors/index.ts';
import { describeOutcome, run, type RunResult } from '../sys/exec.ts';

export type ServiceScope = 'system' | 'user';

export interface ServiceTarget {
  unit: string;
  scope: ServiceScope;
  /** systemctl's environment (the Context's): XDG_RUNTIME_DIR reaches a user manager through it. */
  env: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
}

/** A question (show) or a step that takes no start job (reset-failed): answered in milliseconds. */
export const SYSTEMCTL_QUERY_MS = 10_000;
/** Starting a socket: a start job, but one with no process to wait for. */
export const SYSTEMCTL_START_MS = 30_000;
/** A restart waits for the unit's start job (systemd's own TimeoutStartSec is 90 s by default). */
export const SYSTEMCTL_RESTART_MS = 120_000;

/**
 * Runs a systemctl argv for `target` within `timeoutMs`; its result whatever its exit status,
 * but a call with no answer in time throws SystemctlTimeoutError (its process group killed).
 */
export async function runSystemctl(target: ServiceTarget, argv: string[], timeoutMs: number): Promise<RunResult> {
  const result = await run(argv, { cwd: '/', env: target.env, signal: target.signal, timeoutMs });
  if (result.outcome.kind === 'timed-out') throw new SystemctlTimeoutError(argv, timeoutMs, systemctlArgv(target.scope, 'status', target.unit).join(' '));
  return result;
}

export function systemctlArgv(scope: ServiceScope, verb: string, unit: string, ...extra: string[]): string[] {
  return ['systemctl', ...(scope === 'user' ? ['--user'] : []), verb, ...extra, unit];
}

export function journalctlCommand(scope: ServiceScope, unit: string): string {
  return ['journalctl', ...(scope === 'user' ? ['--user'] : []), '-u', unit, '-n', '50', '--no-pager'].join(' ');
}

export async function restartUnit(target: ServiceTarget): Promise<void> {
  // A unit that crashed several times in a row (a bad deployment) hits systemd's start limit,
  // and would then refuse the restart onto the good one; an explicit deploy clears it first.
  // Its result is not checked: reset-failed of a unit that never failed is a no-op anyway. No
  // answer is: a manager that hangs on it would only hang on the restart after it.
  const reset = systemctlArgv(target.scope, 'reset-failed', target.unit);
  const reply = await run(reset, { cwd: '/', env: target.env, signal: target.signal, timeoutMs: SYSTEMCTL_QUERY_MS });
  if (reply.outcome.kind === 'timed-out') {
    throw new RestartFailedError(target.unit, reset, `no answer within ${SYSTEMCTL_QUERY_MS / 1000} s (mfd killed it): the service manager hangs`, journalctlCommand(target.scope, target.unit));
  }
  const argv = systemctlArgv(target.scope, 'restart', target.unit);
  const result = await run(argv, { cwd: '/', env: target.env, signal: target.signal, timeoutMs: SYSTEMCTL_RESTART_MS });
  if (!result.ok) {
    const output = result.tail.trim().split('\n')[0] ?? '';
    throw new RestartFailedError(
      target.unit,
      argv,
      `${describeOutcome(result.outcome)}${output ? ` (${output})` : ''}`,
      journalctlCommand(target.scope, target.unit),
    );
  }
}

export interface UnitStatus {
  activeState: string;
  /** `running`, `failed`, `auto-restart` (Restart= waits to start it again), ... */
  subState: string;
  /** `success`, or why it last stopped: `exit-code`, `signal`, `start-limit-hit`, ... */
  result: string;
  mainPid: number;
  /** ExecMainStartTimestampMonotonic: when the main process started, in µs since boot. */
  startedMonotonicUs: number;
  nRestarts: number;
}

/** Tells whether a restart really happened, and whether the unit is up. Throws SystemctlTimeoutError. */
export async function unitStatus(target: ServiceTarget): Promise<UnitStatus> {
  const argv = systemctlArgv(target.scope, 'show', target.unit,
    '-p', 'ActiveState', '-p', 'SubState', '-p', 'Result', '-p', 'MainPID', '-p', 'ExecMainStartTimestampMonotonic', '-p', 'NRestarts');
  const result = await runSystemctl(target, argv, SYSTEMCTL_QUERY_MS);
  const values = parseShow(result.stdout);
  return {
    activeState: values.ActiveState ?? 'unknown',
    subState: values.SubState ?? 'unknown',
    result: values.Result ?? 'unknown',
    mainPid: Number(values.MainPID ?? 0),
    startedMonotonicUs: Number(values.ExecMainStartTimestampMonotonic ?? 0),
    nRestarts: Number(values.NRestarts ?? 0),
  };
}

/**
 * Why the unit, as seen `now`, is no longer running the main process the restart started (seen
 * as `started`), or undefined while it may still come up. Pure. Behind a socket a crashing app
 * shows `active` most of the time, as the socket starts it again at once: the new main process
 * is the sign. Waiting out a health check against such a unit only keeps requests waiting.
 */
export function unitFailure(unit: string, started: UnitStatus, now: UnitStatus): string | undefined {
  if (now.activeState === 'failed') return `unit ${unit} failed (result ${now.result})`;
  if (now.activeState === 'inactive' || now.activeState === 'deactivating') return `unit ${unit} is ${now.activeState} (result ${now.result}): its main process exited`;
  if (now.subState === 'auto-restart') return `unit ${unit} is waiting to restart: its main process exited (result ${now.result})`;
  if (now.nRestarts > started.nRestarts) return `unit ${unit} restarted ${now.nRestarts - started.nRestarts} time(s) since mfd restarted it: its main process keeps exiting`;
  if (started.startedMonotonicUs > 0 && now.startedMonotonicUs > 0 && now.startedMonotonicUs !== started.startedMonotonicUs) {
    return `unit ${unit}: the main process mfd started (pid ${started.mainPid}) exited and another (pid ${now.mainPid}) was started`;
  }
  return undefined;
}

export function parseShow(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return values;
}
