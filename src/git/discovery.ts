// The ref advertisement of a fetch by commit id, cut to what isomorphic-git reads from it. Its fetch
// always does a protocol v1 discovery, and v1 lists every ref: thousands on a real repository, each
// parsed in JavaScript, when a fetch of a known sha needs only the capabilities and HEAD.
import type { GitHttpClient, GitHttpResponse } from './http-client.ts';
import { DELIM, FLUSH, pktLine, pktLines } from './pkt-line.ts';
import { boundedBody } from './ref-limit.ts';

const ADVERTISEMENT = 'application/x-git-upload-pack-advertisement';

/**
 * `http`, with every upload-pack advertisement answered by filterAdvertisement. Only for fetches
 * that name a full sha: their wants do not come from the advertisement (resolve.ts listed refs).
 */
export function withFilteredDiscovery(http: GitHttpClient): GitHttpClient {
  return {
    async request(req) {
      const res = await http.request(req);
      const method = (req.method ?? 'GET').toUpperCase();
      if (method !== 'GET' || !req.url.includes('/info/refs?service=git-upload-pack') || res.statusCode !== 200) return res;
      if (!(res.headers['content-type'] ?? '').startsWith(ADVERTISEMENT)) return res;
      // Read only up to the HEAD line when it comes first, as git and JGit send it: the thousands of
      // refs behind it are not waited for but cut (the want list goes on another connection).
      // Otherwise the whole answer is read and filtered, up to MAX_REFS_BYTES.
      const chunks: Buffer[] = [];
      const body = boundedBody(res.body, req.url);
      let undecided = true;
      for (let next = await body.next(); !next.done; next = await body.next()) {
        chunks.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
        if (!undecided) continue;
        const head = headFirst(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
        if (head === 'later') continue;
        undecided = false;
        if (head === 'no') continue;
        await body.return?.(undefined);
        return { ...res, body: once(Buffer.concat([head, FLUSH])) } satisfies GitHttpResponse;
      }
      return { ...res, body: once(filterAdvertisement(Buffer.concat(chunks))) } satisfies GitHttpResponse;
    },
  };
}

/**
 * The start of a v1 advertisement up to its first ref line when that line is HEAD's (then it is
 * all filterAdvertisement would keep of the whole); 'no' when it is not, or the start is not
 * shaped as filterAdvertisement expects; 'later' until the first ref line is in.
 */
export function headFirst(start: Buffer): Buffer | 'no' | 'later' {
  const first = lineEnd(start, 0);
  if (first === undefined) return start.length < 4 || pktLength(start, 0) > start.length ? 'later' : 'no';
  if (first - 4 < SERVICE.length || !start.subarray(4, 4 + SERVICE.length).equals(SERVICE)) return 'no';
  if (start.length < first + 4) return 'later';
  if (pktLength(start, first) !== 0) return 'no';
  const flush = first + 4;
  const ref = lineEnd(start, flush);
  if (ref === undefined) return start.length < flush + 4 || pktLength(start, flush) > start.length - flush ? 'later' : 'no';
  return pktLength(start, flush) > 4 && isHeadLine(start, flush + 4, ref) ? start.subarray(0, ref) : 'no';
}

/**
 * A v0/v1 smart-HTTP advertisement (`# service=` line, flush, ref lines, flush) with only its first
 * ref line (the one carrying the capabilities, symrefs among them) and the HEAD line kept. Anything
 * not shaped so is returned whole, for isomorphic-git to judge as before.
 */
export function filterAdvertisement(body: Buffer): Buffer {
  // One pass over the lengths, nothing allocated per line: thousands of refs cost microseconds.
  const first = lineEnd(body, 0);
  if (first === undefined || first - 4 < SERVICE.length || !body.subarray(4, 4 + SERVICE.length).equals(SERVICE)) return body;
  const flush = lineEnd(body, first);
  if (flush !== first + 4 || pktLength(body, first) !== 0) return body;
  const kept: Buffer[] = [body.subarray(0, flush)];
  let refs = 0;
  let lastFlush = false;
  for (let at = flush; at < body.length; refs++) {
    const end = lineEnd(body, at);
    if (end === undefined) return body;
    lastFlush = pktLength(body, at) === 0;
    if (!lastFlush && (refs === 0 || isHeadLine(body, at + 4, end))) kept.push(body.subarray(at, end));
    at = end;
  }
  if (refs === 0 || !lastFlush) return body;
  return Buffer.concat([...kept, FLUSH]);
}

const SERVICE = Buffer.from('# service=', 'latin1');

/** The 4-hex-digit length of the pkt-line at `at`, or -1 when it is not one. */
function pktLength(body: Buffer, at: number): number {
  let n = 0;
  for (let i = at; i < at + 4; i++) {
    const c = body[i];
    const digit = c === undefined ? -1 : c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (digit < 0) return -1;
    n = n * 16 + digit;
  }
  return n;
}

/** Where the pkt-line at `at` ends, or undefined where it is malformed or cut short. */
function lineEnd(body: Buffer, at: number): number | undefined {
  const length = pktLength(body, at);
  // 0000 flush, 0001 delim and 0002 response-end (protocol v2) are four bytes, no payload.
  if (length < 0 || length === 3) return undefined;
  const end = at + Math.max(length, 4);
  return end <= body.length ? end : undefined;
}

/** Whether the payload [start, end) is `<sha> HEAD` (with or without capabilities or a newline). */
function isHeadLine(body: Buffer, start: number, end: number): boolean {
  const after = start + 45;
  return end >= after && body[start + 40] === 0x20 && body[start + 41] === 0x48 && body[start + 42] === 0x45 && body[start + 43] === 0x41 && body[start + 44] === 0x44 &&
    (end === after || body[after] === 0 || body[after] === 0x0a);
}

async function* once(buf: Buffer): AsyncIterableIterator<Uint8Array> {
  yield new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * `http`, with `ref-prefix` lines for `prefixes` added to every protocol v2 ls-refs request, so the
 * server lists only refs a name can resolve to (git's rules give six), not every tag. iso-git takes
 * one prefix and, against a v1-only server, filters by it itself; given none it lists everything
 * there, as before.
 */
export function withRefPrefixes(http: GitHttpClient, prefixes: readonly string[]): GitHttpClient {
  return {
    async request(req) {
      if ((req.method ?? 'GET').toUpperCase() !== 'POST' || !req.body || !req.url.endsWith('/git-upload-pack')) return http.request(req);
      const chunks: Uint8Array[] = [];
      for await (const chunk of req.body) chunks.push(chunk);
      return http.request({ ...req, body: [addRefPrefixes(Buffer.concat(chunks), prefixes)] });
    },
  };
}

/** An ls-refs request (command, capabilities, delim, arguments, flush) with `ref-prefix` arguments added. */
export function addRefPrefixes(body: Buffer, prefixes: readonly string[]): Buffer {
  const lines = pktLines(body);
  const delim = lines?.findIndex((l) => body.subarray(l.start, l.end).equals(DELIM)) ?? -1;
  if (!lines || !lines[0]?.data.toString('latin1').startsWith('command=ls-refs') || delim === -1 || !lines.at(-1)!.flush) return body;
  return Buffer.concat([body.subarray(0, body.length - 4), ...prefixes.map((p) => pktLine(`ref-prefix ${p}\n`)), FLUSH]);
}
