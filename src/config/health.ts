// The [health] section: an HTTP GET (expected status, body substring) or an argv command, with its
// timing. The config's own type: steps/health.ts runs what this describes.
import * as z from 'zod/mini';
import { valueAt } from './issue.ts';
import { opt, whole, type Add, optString } from './shape.ts';
import { lazily } from '../sys/lazy.ts';

export type HealthConfig =
  | { kind: 'http'; url: string; status?: number; body?: string; timeoutMs: number; intervalMs: number; retries: number; delayMs: number }
  | { kind: 'command'; command: string[]; timeoutMs: number; intervalMs: number; retries: number; delayMs: number };

export const HealthSchema = lazily(() => opt(
  z.strictObject({
    url: opt(z.url({ protocol: /^https?$/ })),
    command: opt(z.array(z.string()).check(z.minLength(1))),
    status: opt(whole(100, 599)),
    body: optString,
    timeout: optString,
    interval: optString,
    retries: opt(whole(0)),
    delay: optString,
  }),
));
type ParsedHealth = NonNullable<z.infer<ReturnType<typeof HealthSchema>>>;

/** Exactly one kind of check, and the keys of one kind not given to the other. */
export function checkHealth(data: unknown, add: Add): void {
  const health = valueAt(data, ['health']) as Record<string, unknown> | undefined;
  if (!health || typeof health !== 'object') return;
  if (health.url !== undefined && health.command !== undefined) add(['health', 'command'], 'give either health.url or health.command, not both');
  if (health.url === undefined && health.command === undefined) add(['health'], 'needs health.url or health.command');
  if (health.command !== undefined && (health.status !== undefined || health.body !== undefined)) {
    add(['health', health.status !== undefined ? 'status' : 'body'], 'only applies to health.url');
  }
  const port = typeof health.url === 'string' ? blockedPort(health.url) : undefined;
  if (port !== undefined) {
    add(['health', 'url'], `port ${port} is one fetch() never connects to (the Fetch standard's blocked ports), so every check would fail and every deploy roll back: serve the check on another port, or use health.command = ["curl", "-fsS", "<the url>"]`);
  }
}

// https://fetch.spec.whatwg.org/#port-blocking, as Node's fetch (undici) applies it to every URL:
// an app answering on one of them fails the check with "TypeError", whatever it answers.
const BLOCKED_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119,
  123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990,
  993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

function blockedPort(url: string): number | undefined {
  let port: number;
  try {
    port = Number(new URL(url).port);
  } catch {
    // Not a URL: the schema reports it.
    return undefined;
  }
  return BLOCKED_PORTS.has(port) ? port : undefined;
}

export function healthOf(h: ParsedHealth, ms: { timeoutMs: number; intervalMs: number; delayMs: number }): HealthConfig {
  const { timeoutMs, intervalMs, delayMs } = ms;
  // Enough retries to fill the timeout unless the user set a number.
  const retries = h.retries ?? Math.ceil(timeoutMs / Math.max(1, intervalMs));
  const timing = { timeoutMs, intervalMs, retries, delayMs };
  if (h.command) return { kind: 'command', command: h.command, ...timing };
  return { kind: 'http', url: h.url!, ...(h.status !== undefined ? { status: h.status } : {}), ...(h.body !== undefined ? { body: h.body } : {}), ...timing };
}
