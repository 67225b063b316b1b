// Socket activation of the app's unit: which .socket unit triggers it and whether that socket is
// listening. While it listens, systemd holds the port across a restart, so nothing is refused.
import { parseShow, runSystemctl, systemctlArgv, SYSTEMCTL_QUERY_MS, SYSTEMCTL_START_MS, type ServiceTarget } from './service.ts';

export interface SocketStatus {
  /** The socket unit, e.g. `app.socket`. */
  unit: string;
  activeState: string;
  /** `success`, or why systemd stopped it (`service-start-limit-hit`, `trigger-limit-hit`, ...). */
  result: string;
  /** What it listens on, e.g. `127.0.0.1:8080`. */
  listen: string[];
}

/** The .socket units among a `TriggeredBy=` value (a service may also be triggered by paths or timers). */
export function parseTriggeredBy(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter((u) => u.endsWith('.socket'));
}

/** `Listen=127.0.0.1:8080 (Stream)` → `127.0.0.1:8080`; several addresses are space-separated pairs. */
export function parseListen(value: string | undefined): string[] {
  const out: string[] = [];
  for (const m of (value ?? '').matchAll(/(\S+) \((\w+)\)/g)) out.push(m[1]!);
  return out;
}

/** Listening (`active`) is the one state in which a restart of the service loses no connection. */
export function socketListening(status: SocketStatus): boolean {
  return status.activeState === 'active';
}

/** The socket that triggers the target's service, or undefined when it is not socket-activated. Throws SystemctlTimeoutError. */
export async function socketOf(target: ServiceTarget): Promise<SocketStatus | undefined> {
  const service = await runSystemctl(target, systemctlArgv(target.scope, 'show', target.unit, '-p', 'TriggeredBy'), SYSTEMCTL_QUERY_MS);
  // An unknown unit or an unreachable manager: the restart itself says so, with systemctl's words.
  if (!service.ok) return undefined;
  const [unit] = parseTriggeredBy(parseShow(service.stdout).TriggeredBy);
  if (!unit) return undefined;
  const socket = await runSystemctl(target, systemctlArgv(target.scope, 'show', unit, '-p', 'ActiveState', '-p', 'Result', '-p', 'Listen'), SYSTEMCTL_QUERY_MS);
  const values = parseShow(socket.stdout);
  return {
    unit,
    activeState: values.ActiveState ?? 'unknown',
    result: values.Result ?? 'unknown',
    listen: parseListen(values.Listen),
  };
}

/** What brings a stopped or failed socket back, as a command line for a hint. */
export function socketStartCommand(scope: ServiceTarget['scope'], socket: SocketStatus): string {
  const start = systemctlArgv(scope, 'start', socket.unit).join(' ');
  return socket.activeState === 'failed' ? `${systemctlArgv(scope, 'reset-failed', socket.unit).join(' ')} && ${start}` : start;
}

/** Clears a socket's failed state and starts it listening again (the way back after a crash loop). Throws SystemctlTimeoutError. */
export async function reviveSocket(target: ServiceTarget, socket: string): Promise<void> {
  // Not checked: the restart that follows, and its checks, say whether the app came back.
  await runSystemctl(target, systemctlArgv(target.scope, 'reset-failed', socket), SYSTEMCTL_QUERY_MS);
  await runSystemctl(target, systemctlArgv(target.scope, 'start', socket), SYSTEMCTL_START_MS);
}
