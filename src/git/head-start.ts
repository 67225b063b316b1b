// A request sent before isomorphic-git asks for it: the ref advertisement a fetch or a ref listing
// opens with (and the listing itself), sent while mfd still loads isomorphic-git, claims its
// directory and opens the cache, so the server's answer is under way meanwhile. iso-git's own
// request is answered from it only when it is exactly the request that was sent (its body too,
// but for the agent line: listing.ts); anything not taken is cut, never left open.
import type { GitHttpClient, GitHttpRequest, GitHttpResponse } from './http-client.ts';
import { withoutAgent } from './listing.ts';

export interface HeadStartClient extends GitHttpClient {
  /** Sends `request` (its body whole) now; the first request identical to it is answered with its response. */
  start(request: Omit<GitHttpRequest, 'body'> & { body?: Buffer }): void;
  /**
   * Resolves once every request started so far is on the wire (or failed), or after `capMs`: a
   * caller about to hold the event loop (compiling isomorphic-git, ~8 ms) lets them go out first.
   */
  sent(capMs: number): Promise<void>;
  /** Cuts every response sent ahead that nobody took (a fetch found the commit cached, a step failed first). */
  discard(): void;
}

export function withHeadStart(http: GitHttpClient): HeadStartClient {
  const ahead = new Map<string, { response: Promise<GitHttpResponse>; cancel: AbortController }>();
  let sending: Promise<void>[] = [];
  return {
    start(request) {
      const key = keyOf(request, request.body);
      if (ahead.has(key)) return;
      const cancel = new AbortController();
      const { body, ...rest } = request;
      let onSent!: () => void;
      const sent = new Promise<void>((resolve) => (onSent = resolve));
      const response = http.request({ ...rest, ...(body ? { body: [body] } : {}), cancel: cancel.signal, onSent });
      // Its failure is iso-git's to see when it asks; until then it must not count as unhandled.
      response.catch(() => undefined).finally(onSent);
      sending.push(sent);
      ahead.set(key, { response, cancel });
    },
    async sent(capMs) {
      const all = Promise.all(sending);
      sending = [];
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, capMs)))]);
      clearTimeout(timer);
    },
    async request(request) {
      // A body is read whole to compare it (a listing's or a fetch's wants: a few lines).
      const body = request.body === undefined ? undefined : await collect(request.body);
      const key = keyOf(request, body);
      const sent = ahead.get(key);
      if (sent === undefined) return http.request(body === undefined ? request : { ...request, body: [body] });
      ahead.delete(key);
      return sent.response;
    },
    discard() {
      // Still unanswered: the request is cut; answered: its body is.
      for (const { response, cancel } of ahead.values()) {
        cancel.abort();
        void response.then((r) => r.destroy?.(), () => undefined);
      }
      ahead.clear();
    },
  };
}

async function collect(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Method, URL, headers (names in lower case, sorted) and the body without its agent lines. */
function keyOf(request: Pick<GitHttpRequest, 'method' | 'url' | 'headers'>, body: Buffer | undefined): string {
  const headers = Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([(request.method ?? 'GET').toUpperCase(), request.url, headers, body === undefined ? null : withoutAgent(body).toString('latin1')]);
}
