// The health check after every restart: an HTTP GET (expected status, optional body substring) or
// an argv command, retried every `interval` after an initial `delay` until it passes or `timeout`,
// or at once when the unit behind it has failed (no waiting out the timeout against a dead app).
import { setTimeout as delay } from 'node:timers/promises';
import { describeOutcome, run } from '../sys/exec.ts';
import { redact } from '../errors/redact.ts';

import type { HealthConfig } from '../config/health.ts';

export type { HealthConfig };

export interface HealthResult {
  ok: boolean;
  attempts: number;
  /** What the last attempt saw: `HTTP 200`, `HTTP 500: <body>`, `connection refused`, a command's tail. */
  detail: string;
  /** Set when the check ended because `watch` reported the app dead; `detail` is then its reason. */
  unitFailed?: boolean;
}

export interface HealthOptions {
  cwd: string;
  /** A command check's environment (the Context's). */
  env: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
  /**
   * Asked every `watchIntervalMs` while the check runs: a reason once the app is dead (its unit
   * failed), which ends the check at once, even an attempt still waiting for an answer (behind
   * a socket, a request to a crashed app waits in the queue rather than being refused).
   * `signal` aborts once the check has ended: a question still unanswered then is not waited for.
   */
  watch?: (signal: AbortSignal) => Promise<string | undefined>;
  watchIntervalMs?: number;
}

export async function runHealthCheck(config: HealthConfig, options: HealthOptions): Promise<HealthResult> {
  const dead = new AbortController();
  let reason: string | undefined;
  const stopWatch = new AbortController();
  const watching = options.watch ? watchUnit(options.watch, options.watchIntervalMs ?? 100, stopWatch.signal, (r) => { reason = r; dead.abort(); }) : Promise.resolve();
  const signal = options.signal ? AbortSignal.any([options.signal, dead.signal]) : dead.signal;
  try {
    const result = await attemptUntilDone(config, { ...options, signal });
    return reason === undefined ? result : { ok: false, attempts: result.attempts, detail: reason, unitFailed: true };
  } finally {
    stopWatch.abort();
    await watching;
  }
}

async function attemptUntilDone(config: HealthConfig, options: HealthOptions): Promise<HealthResult> {
  // Monotonic, as every duration here: a clock set back must not stretch the check.
  const deadline = performance.now() + config.delayMs + config.timeoutMs;
  await sleep(config.delayMs, options.signal);
  let attempts = 0;
  let detail = 'not run';
  for (;;) {
    attempts++;
    // Each attempt gets at least a second, so the last one near the deadline still sees why it fails;
    // whole milliseconds, as AbortSignal.timeout takes no fraction.
    const left = Math.max(1000, Math.ceil(deadline - performance.now()));
    const attempt = config.kind === 'http' ? await checkHttp(config, left, options.signal) : await checkCommand(config, left, options);
    detail = attempt.detail;
    if (attempt.ok) return { ok: true, attempts, detail };
    if (attempts > config.retries || performance.now() + config.intervalMs > deadline || options.signal?.aborted) {
      return { ok: false, attempts, detail };
    }
    await sleep(config.intervalMs, options.signal);
  }
}

/** Polls `watch` until it gives a reason (then calls `onDead` once) or `stop` aborts. */
async function watchUnit(watch: (signal: AbortSignal) => Promise<string | undefined>, everyMs: number, stop: AbortSignal, onDead: (reason: string) => void): Promise<void> {
  const stopped = new Promise<undefined>((resolve) => stop.addEventListener('abort', () => resolve(undefined), { once: true }));
  while (!stop.aborted) {
    // A status that cannot be read proves nothing either way: the check itself decides then. One
    // that does not come (a hung systemctl) must not hold up the check's end: it is let go, aborted.
    const reason = await Promise.race([watch(stop).catch(() => undefined), stopped]);
    if (reason !== undefined && !stop.aborted) return onDead(reason);
    await sleep(everyMs, stop);
  }
}

async function checkHttp(config: Extract<HealthConfig, { kind: 'http' }>, timeoutMs: number, signal?: AbortSignal): Promise<{ ok: boolean; detail: string }> {
  // Details reach the terminal, the history and the logs.
  const shown = redact(config.url);
  try {
    const timeout = AbortSignal.timeout(Math.min(timeoutMs, 10_000));
    const { url, headers } = withBasicAuth(config.url);
    const res = await fetch(url, { headers, signal: signal ? AbortSignal.any([timeout, signal]) : timeout, redirect: 'manual' });
    const body = await res.text();
    const statusOk = config.status === undefined ? res.status >= 200 && res.status < 300 : res.status === config.status;
    const bodyOk = config.body === undefined || body.includes(config.body);
    const snippet = body.trim().replace(/\s+/g, ' ').slice(0, 200);
    if (!statusOk) return { ok: false, detail: `GET ${shown} answered HTTP ${res.status}${snippet ? `: ${snippet}` : ''}` };
    if (!bodyOk) return { ok: false, detail: `GET ${shown} answered HTTP ${res.status} without "${config.body}" in its body` };
    return { ok: true, detail: `GET ${shown} answered HTTP ${res.status}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    const reason = cause === 'ECONNREFUSED' ? 'connection refused' : cause === 'TimeoutError' ? 'no answer in time' : cause;
    return { ok: false, detail: `GET ${shown}: ${reason}` };
  }
}

/**
 * `http://user:pass@host/health` as curl sends it: the URL without them, and the two as basic
 * auth (fetch refuses a URL that holds credentials).
 */
function withBasicAuth(raw: string): { url: string; headers: Record<string, string> } {
  const url = new URL(raw);
  if (url.username === '' && url.password === '') return { url: raw, headers: {} };
  const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  return { url: url.href, headers: { authorization: `Basic ${Buffer.from(pair, 'utf8').toString('base64')}` } };
}

async function checkCommand(
  config: Extract<HealthConfig, { kind: 'command' }>,
  timeoutMs: number,
  options: HealthOptions,
): Promise<{ ok: boolean; detail: string }> {
  const result = await run(config.command, { cwd: options.cwd, env: options.env, timeoutMs, signal: options.signal, tailLines: 5, envRemove: ['MFD_REPO_TOKEN'] });
  const tail = result.tail.trim();
  return { ok: result.ok, detail: `${JSON.stringify(config.command)} ${result.ok ? 'passed' : `failed with ${describeOutcome(result.outcome)}`}${tail ? `: ${tail}` : ''}` };
}

/** Waits `ms`, or less if `signal` aborts (the caller looks at the signal). Adds no listener that outlives it. */
async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  await delay(ms, undefined, signal ? { signal } : {}).catch((error: unknown) => {
    if ((error as Error).name !== 'AbortError') throw error;
  });
}
