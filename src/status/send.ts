// Sends one status request until the forge takes it: retried with backoff on 5xx, 429 (honouring
// Retry-After, capped) and network errors, never on another 4xx or a redirect, and never past
// `signal` (the run's budget for its posts). Returns why it finally failed, redacted, instead of throwing.
import { redact } from '../errors/redact.ts';
import type { StatusRequest } from './request.ts';

export interface SendOptions {
  /** Aborted when the run's budget for its posts is spent: the attempt and any wait end at once. */
  signal: AbortSignal;
  /** Each attempt's own limit, in ms. */
  attemptMs: number;
  /** ms since the epoch, for a Retry-After given as a date. */
  now: () => number;
  /** The token the request carries: masked in the forge's answer before it is cut, so no part of it is kept. */
  secret?: string;
  fetch?: typeof fetch;
}

export type SendResult = { ok: true; attempts: number } | { ok: false; attempts: number; why: string };

const ATTEMPTS = 5;
const FIRST_BACKOFF_MS = 250;
/** A forge asking for more than this (a rate limit reset an hour away) is not waited for. */
export const RETRY_AFTER_CAP_MS = 5_000;
/** How much of an answer's body is read, for the forge's message. */
export const ANSWER_MAX = 64 * 1024;

export async function sendStatus(request: StatusRequest, options: SendOptions): Promise<SendResult> {
  const doFetch = options.fetch ?? fetch;
  const host = new URL(request.url).host;
  let why = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    if (options.signal.aborted) return { ok: false, attempts: attempt - 1, why: `gave up: ${why || 'earlier posts took all of [status] timeout'}` };
    let wait = FIRST_BACKOFF_MS * 2 ** (attempt - 1);
    try {
      const response = await doFetch(request.url, {
        // 'manual', not 'error': undici's 'error' throws as a network failure would, which is retried.
        method: 'POST', headers: request.headers, body: request.body, redirect: 'manual',
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.attemptMs)]),
      });
      // A body cut off mid-way still has its status, which decides a refusal; a 2xx needs its body whole.
      const text = await readStart(response).catch(() => '');
      // A captive portal or a proxy's page answers 2xx too, and would answer the same on retry.
      if (response.ok) return isTheStatus(response.status, text, request.answer) ? { ok: true, attempts: attempt } : { ok: false, attempts: attempt, why: notTheStatus(host, response, request.answer) };
      // A redirect is not followed (the token would go where it points) and says the same on retry.
      if (response.status >= 300 && response.status < 400) return { ok: false, attempts: attempt, why: `${host} answered HTTP ${response.status}, ${redirectTarget(response.headers.get('location'), request.url)}, which is not followed` };
      why = `${host} answered HTTP ${response.status}${detailOf(text, options.secret)}`;
      const retryable = response.status >= 500 || response.status === 429;
      if (!retryable) return { ok: false, attempts: attempt, why };
      const asked = retryAfterMs(response.headers.get('retry-after'), options.now());
      if (asked !== undefined) wait = Math.min(asked, RETRY_AFTER_CAP_MS);
    } catch (error) {
      // Out of time, the run's budget or this attempt's own limit (fetch's TimeoutError): no answer, whatever the phase.
      const timedOut = options.signal.aborted || (error as { name?: unknown }).name === 'TimeoutError';
      why = timedOut ? `no answer from ${host} in time` : `cannot reach ${host}: ${causeOf(error)}`;
    }
    if (attempt < ATTEMPTS) await sleep(wait, options.signal);
  }
  return { ok: false, attempts: ATTEMPTS, why: `gave up after ${ATTEMPTS} attempts: ${why}` };
}

/**
 * The first ANSWER_MAX bytes of the answer's body, decoded: the forge's message is at its start,
 * and a body without end (or a small gzip that inflates to gigabytes) must not fill mfd's memory.
 */
async function readStart(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ANSWER_MAX) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    // The rest is dropped with the connection, never read.
    await reader.cancel().catch(() => undefined); // an answer already cut off has nothing left to cancel
  }
  return Buffer.concat(chunks).subarray(0, ANSWER_MAX).toString('utf8');
}

/** Whether the answer is the forge's record of the status just sent: its documented code and a JSON object holding the state. */
function isTheStatus(status: number, text: string, answer: StatusRequest['answer']): boolean {
  if (!answer.statuses.includes(status)) return false;
  try {
    const json = JSON.parse(text) as unknown;
    return typeof json === 'object' && json !== null && (json as Record<string, unknown>)[answer.field] === answer.value;
  } catch {
    return false; // not JSON: an HTML page, an empty body
  }
}

/** Its code and media type only: the body of whatever answered may hold anything, secrets included. */
function notTheStatus(host: string, response: Response, answer: StatusRequest['answer']): string {
  const type = redact((response.headers.get('content-type') ?? 'no content type').split(';')[0]!.trim().slice(0, 60)) || 'no content type';
  return `${host} answered HTTP ${response.status} (${type}), not the status ${answer.provider} answers with (is status.api_url the forge's API?)`;
}

/** Seconds, or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The forge's own message, short: GitHub and Gitea say `message`, GitLab `message` or `error`. */
function detailOf(text: string, secret: string | undefined): string {
  let message: unknown = text;
  try {
    const json = JSON.parse(text) as { message?: unknown; error?: unknown };
    message = json.message ?? json.error ?? text;
  } catch {
    // Not JSON (a proxy's HTML page): its first line is what there is to say.
  }
  const whole = typeof message === 'string' ? message : JSON.stringify(message);
  // Masked before the cut: a token the cut goes through would leave its first part in the log.
  const line = (secret ? whole.split(secret).join('***') : whole).split('\n')[0]!.trim().slice(0, 120);
  return line ? `: ${redact(line)}` : '';
}

/** Where a redirect points, by host only: the rest of a Location (a path, a query) may carry anything. */
function redirectTarget(location: string | null, base: string): string {
  if (location === null) return 'a redirect without a Location';
  try {
    return `a redirect to ${new URL(location, base).host}`;
  } catch {
    return 'a redirect to a Location that is not a URL';
  }
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const text = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return redact(text);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
