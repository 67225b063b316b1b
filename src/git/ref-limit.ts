// The ref advertisement and the ls-refs listing are read whole before anything acts on them (by
// isomorphic-git, or discovery.ts when HEAD is not first): a server sending one without end, or a
// small gzip that inflates to gigabytes, is cut at MAX_REFS_BYTES with GitRefsTooLargeError.
import { GitRefsTooLargeError } from '../errors/index.ts';

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

/** The URL as the error names it: no query (iso-git's URLs hold no credentials). */
function where(url: string): string {
  const { origin, pathname } = new URL(url);
  return `${origin}${pathname}`;
}
