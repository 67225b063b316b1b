// systemctl for the app's unit: argv builders (pure) and the restart / status actions via exec.ts.
// Scope "user" means `systemctl --user`: rootless apps run as user services (and the tests).
import { RestartFailedError } from '../errors/index.ts';
import { describeOutcome, run } from '../sys/exec.ts';

export type ServiceScope = 'system' | 'user';

export interface ServiceTarget {
  unit: string;
  scope: ServiceScope;
  /** systemctl's environment (the Context's): XDG_RUNTIME_DIR reaches a user manager through it. */
  env: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
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
  await run(systemctlArgv(target.scope, 'reset-failed', target.unit), { cwd: '/', env: target.env, signal: target.signal, timeoutMs: 30_000 });
  const argv = systemctlArgv(target.scope, 'restart', target.unit);
  const result = await run(argv, { cwd: '/', env: target.env, signal: target.signal, timeoutMs: 120_000 });
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
  mainPid: number;
  /** ExecMainStartTimestampMonotonic: when the main process started, in µs since boot. */
  startedMonotonicUs: number;
  nRestarts: number;
}

/** For the health-check issue: tells whether a restart really happened and the unit is up. */
export async function unitStatus(target: ServiceTarget): Promise<UnitStatus> {
  const argv = systemctlArgv(target.scope, 'show', target.unit,
    '-p', 'ActiveState', '-p', 'MainPID', '-p', 'ExecMainStartTimestampMonotonic', '-p', 'NRestarts');
  const result = await run(argv, { cwd: '/', env: target.env, signal: target.signal, timeoutMs: 30_000 });
  const values = parseShow(result.stdout);
  return {
    activeState: values.ActiveState ?? 'unknown',
    mainPid: Number(values.MainPID ?? 0),
    startedMonotonicUs: Number(values.ExecMainStartTimestampMonotonic ?? 0),
    nRestarts: Number(values.NRestarts ?? 0),
  };
}

export function parseShow(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return values;
}
