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
    if (!Number.isInteger(length) || (length !== 0 && length < 4) || at + Math.max(length, 4) > body.length) return undefined;
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
