// The [health] section: an HTTP GET (expected status, body substring) or an argv command, with its
// timing. The config's own type: steps/health.ts runs what this describes.
import * as z from 'zod/mini';
import { valueAt } from './issue.ts';
import { opt, whole, type Add } from './shape.ts';

export type HealthConfig =
  | { kind: 'http'; url: string; status?: number; body?: string; timeoutMs: number; intervalMs: number; retries: number; delayMs: number }
  | { kind: 'command'; command: string[]; timeoutMs: number; intervalMs: number; retries: number; delayMs: number };

export const HealthSchema = opt(
  z.strictObject({
    url: opt(z.url({ protocol: /^https?$/ })),
    command: opt(z.array(z.string()).check(z.minLength(1))),
    status: opt(whole(100, 599)),
    body: opt(z.string()),
    timeout: opt(z.string()),
    interval: opt(z.string()),
    retries: opt(whole(0)),
    delay: opt(z.string()),
  }),
);
type ParsedHealth = NonNullable<z.infer<typeof HealthSchema>>;

/** Exactly one kind of check, and the keys of one kind not given to the other. */
export function checkHealth(data: unknown, add: Add): void {
  const health = valueAt(data, ['health']) as Record<string, unknown> | undefined;
  if (!health || typeof health !== 'object') return;
  if (health.url !== undefined && health.command !== undefined) add(['health', 'command'], 'give either health.url or health.command, not both');
  if (health.url === undefined && health.command === undefined) add(['health'], 'needs health.url or health.command');
  if (health.command !== undefined && (health.status !== undefined || health.body !== undefined)) {
    add(['health', health.status !== undefined ? 'status' : 'body'], 'only applies to health.url');
  }
}

export function healthOf(h: ParsedHealth, ms: { timeoutMs: number; intervalMs: number; delayMs: number }): HealthConfig {
  const { timeoutMs, intervalMs, delayMs } = ms;
  // Enough retries to fill the timeout unless the user set a number.
  const retries = h.retries ?? Math.ceil(timeoutMs / Math.max(1, intervalMs));
  const timing = { timeoutMs, intervalMs, retries, delayMs };
  if (h.command) return { kind: 'command', command: h.command, ...timing };
  return { kind: 'http', url: h.url!, ...(h.status !== undefined ? { status: h.status } : {}), ...(h.body !== undefined ? { body: h.body } : {}), ...timing };
}
