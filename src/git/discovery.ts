// The ref advertisement of a fetch by commit id, cut to what isomorphic-git reads from it. Its fetch
// always does a protocol v1 discovery, and v1 lists every ref: thousands on a real repository, each
// parsed in JavaScript, when a fetch of a known sha needs only the capabilities and HEAD.
import type { GitHttpClient, GitHttpResponse } from './http-client.ts';

const ADVERTISEMENT = 'application/x-git-upload-pack-advertisement';
const FLUSH = Buffer.from('0000', 'latin1');

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
      const chunks: Uint8Array[] = [];
      for await (const chunk of res.body) chunks.push(chunk);
      return { ...res, body: once(filterAdvertisement(Buffer.concat(chunks))) } satisfies GitHttpResponse;
    },
  };
}

/**
 * A v0/v1 smart-HTTP advertisement (`# service=` line, flush, ref lines, flush) with only its first
 * ref line (the one carrying the capabilities, symrefs among them) and the HEAD line kept. Anything
 * not shaped so is returned whole, for isomorphic-git to judge as before.
 */
export function filterAdvertisement(body: Buffer): Buffer {
  const lines = pktLines(body);
  if (!lines) return body;
  const firstFlush = lines.findIndex((l) => l.flush);
  const head = lines[0];
  if (firstFlush !== 1 || !head || !head.data.toString('latin1').startsWith('# service=')) return body;
  const refs = lines.slice(2);
  if (refs.length === 0 || !refs.at(-1)!.flush) return body;
  const kept = refs.filter((l, i) => !l.flush && (i === 0 || isHeadLine(l.data)));
  return Buffer.concat([body.subarray(0, lines[1]!.end), ...kept.map((l) => body.subarray(l.start, l.end)), FLUSH]);
}

interface PktLine {
  start: number;
  end: number;
  data: Buffer;
  flush: boolean;
}

/** The pkt-lines of `body`, or undefined where one is malformed or cut short. */
function pktLines(body: Buffer): PktLine[] | undefined {
  const lines: PktLine[] = [];
  for (let at = 0; at < body.length; ) {
    if (at + 4 > body.length) return undefined;
    const length = Number.parseInt(body.toString('latin1', at, at + 4), 16);
    // 0000 flush, 0001 delim and 0002 response-end (protocol v2) are four bytes, no payload.
    if (!Number.isInteger(length) || length === 3 || at + Math.max(length, 4) > body.length) return undefined;
    const end = at + Math.max(length, 4);
    lines.push({ start: at, end, data: body.subarray(at + 4, end), flush: length === 0 });
    at = end;
  }
  return lines;
}

/** `<sha> HEAD` (with or without capabilities or a newline). */
function isHeadLine(data: Buffer): boolean {
  return data[40] === 0x20 && data.toString('latin1', 41, 45) === 'HEAD' && (data.length === 45 || data[45] === 0 || data[45] === 0x0a);
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
  const delim = lines?.findIndex((l) => body.toString('latin1', l.start, l.end) === '0001') ?? -1;
  if (!lines || !lines[0]?.data.toString('latin1').startsWith('command=ls-refs') || delim === -1 || !lines.at(-1)!.flush) return body;
  const added = prefixes.map((p) => {
    const line = Buffer.from(`ref-prefix ${p}\n`, 'utf8');
    return Buffer.concat([Buffer.from((line.length + 4).toString(16).padStart(4, '0'), 'latin1'), line]);
  });
  return Buffer.concat([body.subarray(0, body.length - 4), ...added, FLUSH]);
}
