// The [health] section as the rest of mfd sees it: an HTTP GET or an argv command, with its timing.
// The config's own type: steps/health.ts runs what this describes.

export type HealthConfig =
  | { kind: 'http'; url: string; status?: number; body?: string; timeoutMs: number; intervalMs: number; retries: number; delayMs: number }
  | { kind: 'command'; command: string[]; timeoutMs: number; intervalMs: number; retries: number; delayMs: number };
