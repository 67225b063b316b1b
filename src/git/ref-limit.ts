// The ref advertisement and the ls-refs listing are read whole before anything acts on them (by
// isomorphic-git, or discovery.ts when HEAD is not first): a server sending one without end, or a
// small gzip that inflates to gigabytes, is cut at MAX_REFS_BYTES with GitRefsTooLargeError.
import { GitRefsTooLargeError } from '../errors/index.ts';
import type { GitHttpClient } from './http-client.ts';

/**
 * Far above any real repository's: a v1 advertisement line is some 60-100 bytes, so this is over
 * 600,000 refs (express advertises 4,000 in 250 KB), while a listing by name holds a handful.
 */
export const MAX_REFS_BYTES = 64 * 1024 ** 2;

/** `body`, failing with GitRefsTooLargeError (and cut: its iterator returned) past MAX_REFS_BYTES. */
export async function* boundedBody(body: AsyncIterable<Uint8Array>, url: string): AsyncIterableIterator<Uint8Array> {
  let read = 0;
  for await (const chunk of body) {
    read += chunk.byteLength;
    if (read > MAX_REFS_BYTES) throw new GitRefsTooLargeError(where(url), MAX_REFS_BYTES);
    yield chunk;
  }
}

/**
 * `http`, with every upload-pack ref advertisement and ls-refs answer read whole here, through
 * boundedBody, before isomorphic-git gets it. iso-git's pkt-line reader takes a body that fails for
 * one that ended (GitPktLine.streamReader keeps the error and reports the end), so a listing cut
 * by this bound, a reset or a stall would reach it as a shorter list: a name could then resolve to
 * a branch where the tag git's rules prefer was still to come. Here such a failure fails the request.
 */
export function withBoundedRefs(http: GitHttpClient): GitHttpClient {
  return {
    async request(req) {
      const method = (req.method ?? 'GET').toUpperCase();
      // A request body is a few lines (a listing's prefixes, a fetch's wants): read to look at it.
      const body = req.body === undefined ? undefined : await collect(req.body);
      const refs = method === 'GET' ? req.url.includes('/info/refs?service=git-upload-pack') : method === 'POST' && body !== undefined && isLsRefs(body);
      const res = await http.request(body === undefined ? req : { ...req, body: [body] });
      if (!refs || res.statusCode !== 200) return res;
      return { ...res, body: once(await collect(boundedBody(res.body, req.url))) };
    },
  };
}

/** Whether an upload-pack request body is a protocol v2 ls-refs command (its first pkt-line). */
function isLsRefs(body: Buffer): boolean {
  return body.toString('latin1', 4, 20) === 'command=ls-refs\n';
}

async function collect(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function* once(buf: Buffer): AsyncIterableIterator<Uint8Array> {
  yield new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** The URL as the error names it: no query (iso-git's URLs hold no credentials). */
function where(url: string): string {
  const { origin, pathname } = new URL(url);
  return `${origin}${pathname}`;
}
