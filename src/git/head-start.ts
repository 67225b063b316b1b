// A request sent before isomorphic-git asks for it: the ref advertisement a fetch or a ref listing
// opens with, sent while mfd still loads isomorphic-git, claims its directory and opens the cache,
// so the server's answer is under way meanwhile. iso-git's own request is answered from it only
// when it is exactly the request that was sent; anything not taken is cut, never left open.
import type { GitHttpClient, GitHttpRequest, GitHttpResponse } from './http-client.ts';

export interface HeadStartClient extends GitHttpClient {
  /** Sends `request` (a GET, no body) now; the first identical request is answered with its response. */
  start(request: GitHttpRequest): void;
  /** Cuts every response sent ahead that nobody took (a fetch found the commit cached, a step failed first). */
  discard(): void;
}

export function withHeadStart(http: GitHttpClient): HeadStartClient {
  const ahead = new Map<string, { response: Promise<GitHttpResponse>; cancel: AbortController }>();
  return {
    start(request) {
      const key = keyOf(request);
      if (key === undefined || ahead.has(key)) return;
      const cancel = new AbortController();
      const response = http.request({ ...request, cancel: cancel.signal });
      // Its failure is iso-git's to see when it asks; until then it must not count as unhandled.
      response.catch(() => undefined);
      ahead.set(key, { response, cancel });
    },
    request(request) {
      const key = keyOf(request);
      const sent = key === undefined ? undefined : ahead.get(key);
      if (key === undefined || sent === undefined) return http.request(request);
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

/** Method, URL and headers (names in lower case, sorted): undefined for a request with a body. */
function keyOf(request: GitHttpRequest): string | undefined {
  if (request.body !== undefined) return undefined;
  const headers = Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([(request.method ?? 'GET').toUpperCase(), request.url, headers]);
}
