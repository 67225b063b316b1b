// Receives the pack of an upload-pack answer for isomorphic-git: the side-band is read here, the
// pack streamed to a temp file as it arrives, indexed by pack-index.ts and stored; iso-git gets the
// answer's other lines and an empty pack, so it never buffers, writes or indexes the pack itself.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readdir, rm } from '../sys/files.ts';
import { GitFetchError, GitPackInvalidError, GitRefusedError } from '../errors/index.ts';
import type { GitHttpClient } from './http-client.ts';
import { indexPackFile, PackProblem, type ExternalReader, type IndexedPack } from './pack-index.ts';

/** What iso-git gets instead of the pack: a valid pack of no objects, which it skips. */
const EMPTY_PACK = Buffer.from('5041434b0000000200000000029d08823bd8a8eab510ad6ac75c823cfd3ed31e', 'hex');
const FLUSH = Buffer.from('0000', 'latin1');

export interface ReceiveOptions {
  gitdir: string;
  /** The redacted URL, for errors. */
  url: string;
  /** A thin pack's bases (pack-index.ts appends them). */
  readExternal: ExternalReader;
  /**
   * The answer's `shallow` and `unshallow` lines, kept from iso-git: it would read each shallow
   * commit through its own object cache, loading the whole new pack into memory (shallow.ts).
   */
  onShallow: (update: { shallow: string[]; unshallow: string[] }) => void;
  /** Run once, on a turn of its own, when the first want list is on the wire: the server then builds the pack. */
  whilePacking?: (() => void) | undefined;
}

/** `http`, with the pack of every upload-pack answer received and stored by mfd (see module comment). */
export function withPackReceiver(http: GitHttpClient, options: ReceiveOptions): GitHttpClient {
  let packing = options.whilePacking;
  return {
    async request(req) {
      const wants = (req.method ?? 'GET').toUpperCase() === 'POST' && req.url.endsWith('/git-upload-pack');
      const work = wants ? packing : undefined;
      if (work) packing = undefined;
      const res = await http.request(work ? { ...req, onSent: () => void setImmediate(work) } : req);
      if (!wants || res.statusCode !== 200) return res;
      const all = await receive(res.body, options);
      const text = (line: Buffer) => line.toString('latin1', 4).trim();
      const shallow = all.filter((l) => /^shallow [0-9a-f]{40}$/.test(text(l))).map((l) => text(l).slice(8));
      const unshallow = all.filter((l) => /^unshallow [0-9a-f]{40}$/.test(text(l))).map((l) => text(l).slice(10));
      options.onShallow({ shallow, unshallow });
      const lines = all.filter((l) => !/^(un)?shallow /.test(text(l)));
      return { ...res, body: once(Buffer.concat([...lines, pkt(Buffer.concat([Buffer.from([1]), EMPTY_PACK])), FLUSH])) };
    },
  };
}

/** Reads the answer: its pkt-lines returned as they came, its side-band pack stored. */
async function receive(body: AsyncIterable<Uint8Array>, options: ReceiveOptions): Promise<Buffer[]> {
  const packDir = join(options.gitdir, 'objects', 'pack');
  const lines: Buffer[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let temp: { path: string; fd: number; bytes: number } | undefined;
  try {
    for await (const chunk of body) {
      pending = pending.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([pending, chunk]);
      let at = 0;
      while (pending.length - at >= 4) {
        const length = Number.parseInt(pending.toString('latin1', at, at + 4), 16);
        if (!Number.isInteger(length) || (length > 0 && length < 4)) throw new GitFetchError(options.url, 'the server answered the fetch with a malformed line');
        if (length === 0) {
          lines.push(FLUSH);
          at += 4;
          continue;
        }
        if (pending.length - at < length) break;
        const payload = pending.subarray(at + 4, at + length);
        const band = payload[0];
        if (band === 1) {
          temp ??= openTemp(packDir);
          let done = 0;
          while (done < payload.length - 1) done += writeSync(temp.fd, payload, 1 + done);
          temp.bytes += payload.length - 1;
        } else if (band === 3) {
          throw new GitRefusedError(options.url, payload.toString('utf8', 1));
        } else if (payload.toString('latin1', 0, 4) === 'ERR ') {
          // upload-pack's own error before any pack, e.g. `not our ref <sha>`: iso-git would skip it.
          throw new GitRefusedError(options.url, payload.toString('utf8', 4));
        } else if (band !== 2) lines.push(Buffer.from(pending.subarray(at, at + length)));
        at += length;
      }
      pending = pending.subarray(at);
    }
    if (!temp) return lines;
    closeSync(temp.fd);
    temp.fd = -1;
    await store(temp, packDir, options);
    temp = undefined;
    return lines;
  } finally {
    if (temp) {
      if (temp.fd >= 0) closeSync(temp.fd);
      // Our own temp file: a pack cut short or refused is never stored.
      rmSync(temp.path, { force: true });
    }
  }
}

async function store(temp: { path: string; bytes: number }, packDir: string, options: ReceiveOptions): Promise<void> {
  let indexed: IndexedPack;
  try {
    // Read from the file in pieces, never loaded: a thin pack's bases are appended to it in place.
    indexed = await indexPackFile(temp.path, options.readExternal);
  } catch (error) {
    if (error instanceof PackProblem) throw new GitPackInvalidError(options.url, error.message);
    throw error;
  }
  storeIndexed(packDir, indexed, temp.path);
}

/**
 * Stores an indexed pack as `pack-<name>.pack` and `.idx`: the pack first, the index last, each
 * renamed into place, so a kill leaves at most a pack without an index (invisible, removed by the
 * next compaction). `tempPath` is the temp file holding the pack as it must be stored.
 */
export function storeIndexed(packDir: string, indexed: IndexedPack, tempPath: string): void {
  const base = join(packDir, `pack-${indexed.name}`);
  renameSync(tempPath, `${base}.pack`);
  const idxTemp = tempName(packDir);
  writeFileSync(idxTemp, indexed.idx, { flag: 'wx' });
  renameSync(idxTemp, `${base}.idx`);
}

function openTemp(packDir: string): { path: string; fd: number; bytes: number } {
  mkdirSync(packDir, { recursive: true });
  const path = tempName(packDir);
  return { path, fd: openSync(path, 'wx', 0o644), bytes: 0 };
}

/**
 * Removes what a killed fetch or compaction left in `packDir`: temp files, and a pack without its
 * index (a kill between storeIndexed's two renames). Only under the cache lock, when no other run
 * is writing one; returns how many went. Without this they would stay until the next compaction,
 * 32 fetches away: a large pack cut short each time could fill the disk first.
 */
export async function removeLeftovers(packDir: string): Promise<number> {
  const names = await readdir(packDir).catch(() => [] as string[]);
  const indexes = new Set(names.filter((n) => n.endsWith('.idx')));
  const left = names.filter((n) => n.startsWith('tmp_pack_') || (/^pack-[0-9a-f]{40}\.pack$/.test(n) && !indexes.has(n.replace(/\.pack$/, '.idx'))));
  for (const name of left) await rm(join(packDir, name), { force: true });
  return left.length;
}

/** git's own prefix for a pack being received: `tmp_pack_`, never an `.idx` or `.pack` name. */
export function tempName(packDir: string): string {
  return join(packDir, `tmp_pack_${randomBytes(8).toString('hex')}`);
}

function pkt(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0'), 'latin1'), payload]);
}

async function* once(buf: Buffer): AsyncIterableIterator<Uint8Array> {
  yield new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
