// The HTTP client isomorphic-git gets, over node:http/https. No idle socket timeout (Node's agent
// cuts a server that is silent for 5 s, as upload-pack is while it compresses); instead, git's
// low-speed rule: no answer within `timeoutMs`, or less than 1 KiB/s for that long, fails the transfer.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createGunzip, createInflate } from 'node:zlib';
import { GitTimeoutError } from '../errors/index.ts';
import { LowSpeedMeter } from './low-speed.ts';

/** isomorphic-git's HttpClient interface (isomorphic-git/http/node has the same shape). */
export interface GitHttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Cuts this request alone while it waits for its answer (head-start.ts); the run's signal cuts every one. */
  cancel?: AbortSignal;
  /** Called once the request, its body too, is handed to the socket whole (head-start.ts waits for it). */
  onSent?: () => void;
}
export interface GitHttpResponse {
  url: string;
  method: string;
  statusCode: number;
  statusMessage: string;
  headers: Record<string, string>;
  body: AsyncIterableIterator<Uint8Array>;
  /** Cuts the response without reading it (a body never iterated would hold its socket open). */
  destroy?: () => void;
}
export interface GitHttpClient {
  request(request: GitHttpRequest): Promise<GitHttpResponse>;
}

export interface GitHttpOptions {
  timeoutMs: number;
  /** The clock the low-speed rule reads; `Date.now` by default. */
  now?: () => number;
  /** Ctrl-C / SIGTERM: a transfer under way is cut at once, not when it ends or stalls. */
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 10;
/** How much of an error answer's body is read (its text, for the message); the rest is dropped. */
export const ERROR_BODY_MAX = 64 * 1024;
/**
 * How long a kept-alive socket may sit unused between two requests of one command (they come
 * milliseconds apart but in a short sha's deepening). node:http closes it a second before a shorter
 * timeout the server announces (`Keep-Alive: timeout=5`, Apache's and Node's), so a request is not
 * sent as the server hangs up; node:http, unlike curl, would not retry it.
 */
const IDLE_SOCKET_MS = 30_000;

export function createGitHttp(options: GitHttpOptions): GitHttpClient {
  const { timeoutMs } = options;
  const now = options.now ?? Date.now;
  const { signal } = options;
  const aborted = () => Object.assign(new Error('the transfer was interrupted'), { code: 'ABORT_ERR' });
  // Own agents: keep-alive (a fetch is two or three requests to one server), and their timeout only
  // ever applies to an idle socket, because every request sets its own (none). Each made at its
  // first request: node:https (with the TLS and crypto modules behind it, scripts/build.mjs
  // LAZY_BUILTINS) loads only for an https remote.
  let httpAgent: HttpAgent | undefined;
  let httpsAgent: HttpsAgent | undefined;
  const agentFor = (https: boolean) => (https
    ? (httpsAgent ??= new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }))
    : (httpAgent ??= new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS })));

  function send(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, cancel: AbortSignal | undefined, onSent: (() => void) | undefined): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const https = url.protocol === 'https:';
      const req = (https ? httpsRequest : httpRequest)(url, { method, headers, agent: agentFor(https), timeout: 0 });
      const noAnswer = setTimeout(() => req.destroy(new GitTimeoutError(where(url), 'no-answer', timeoutMs)), timeoutMs);
      // The socket keeps the process alive while it matters; a timer must not keep it alive longer.
      noAnswer.unref();
      const onAbort = () => req.destroy(aborted());
      const settle = () => {
        clearTimeout(noAnswer);
        signal?.removeEventListener('abort', onAbort);
        cancel?.removeEventListener('abort', onAbort);
      };
      req.on('response', (res) => {
        settle();
        resolve(res);
      });
      req.on('error', (error) => {
        settle();
        reject(error);
      });
      if (onSent) req.on('finish', onSent);
      if (signal?.aborted || cancel?.aborted) onAbort();
      else {
        signal?.addEventListener('abort', onAbort, { once: true });
        cancel?.addEventListener('abort', onAbort, { once: true });
      }
      req.end(body);
    });
  }

  /** `res`'s body, decoded, with the stall rule and the abort signal; an error answer's only up to ERROR_BODY_MAX. */
  async function* watch(url: URL, res: IncomingMessage): AsyncIterableIterator<Uint8Array> {
    const status = res.statusCode ?? 0;
    let left = status >= 200 && status < 300 ? Infinity : ERROR_BODY_MAX;
    const encoding = res.headers['content-encoding'];
    const decoded = encoding === 'gzip' ? res.pipe(createGunzip()) : encoding === 'deflate' ? res.pipe(createInflate()) : res;
    const meter = new LowSpeedMeter(timeoutMs, now());
    // git's rule is curl's CURLOPT_LOW_SPEED_LIMIT, which counts the body as it crossed the wire,
    // before content decoding: a trickle of gzip that inflates a lot is as slow as it looks there.
    if (decoded !== res) {
      res.on('error', (error) => decoded.destroy(error));
      res.on('data', (chunk: Buffer) => meter.record(now(), chunk.length));
    }
    // Counted as read: bytes still buffered mean the reader is behind, not the server, so no verdict then.
    const tick = setInterval(() => {
      if (res.readableLength === 0 && decoded.readableLength === 0 && meter.stalled(now())) {
        res.destroy(new GitTimeoutError(where(url), 'stalled', timeoutMs));
      }
    }, Math.min(1000, Math.max(10, timeoutMs / 8)));
    tick.unref();
    const onAbort = () => res.destroy(aborted());
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of decoded as AsyncIterable<Buffer>) {
        if (decoded === res) meter.record(now(), chunk.length);
        const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
        left -= part.length;
        yield new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
        // iso-git reads an error answer whole for its message: a server sending one without end
        // (or a small gzip that inflates to gigabytes) must not fill this process's memory.
        if (left === 0) break;
      }
    } finally {
      clearInterval(tick);
      signal?.removeEventListener('abort', onAbort);
      res.destroy();
    }
  }

  return {
    async request(request) {
      let body = request.body ? await collect(request.body) : undefined;
      let method = (request.method ?? 'GET').toUpperCase();
      let headers: Record<string, string> = { 'accept-encoding': 'gzip, deflate', ...lowerCase(request.headers ?? {}) };
      if (body) headers['content-length'] = String(body.length);
      let url = new URL(request.url);
      for (let redirects = 0; ; redirects++) {
        const res = await send(url, method, headers, body, request.cancel, redirects === 0 ? request.onSent : undefined);
        const location = res.headers.location;
        const status = res.statusCode ?? 0;
        if (status < 300 || status >= 400 || !location) {
          return {
            url: url.href, method, statusCode: status, statusMessage: res.statusMessage ?? '',
            headers: flatten(res.headers), body: watch(url, res), destroy: () => res.destroy(),
          };
        }
        res.resume();
        if (redirects >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${where(url)}`);
        const next = new URL(location, url);
        // Credentials stay with their origin (scheme, host and port), as curl and git do.
        if (next.origin !== url.origin) headers = omit(headers, ['authorization', 'cookie']);
        if (status === 303 ? method !== 'HEAD' : method === 'POST' && (status === 301 || status === 302)) {
          method = 'GET';
          body = undefined;
          headers = omit(headers, ['content-length', 'content-type']);
        }
        url = next;
      }
    },
  };
}

/** The URL as an error names it: no query, no credentials (iso-git's URLs never hold any). */
function where(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

async function collect(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function lowerCase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function omit(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !names.includes(k)));
}

function flatten(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
