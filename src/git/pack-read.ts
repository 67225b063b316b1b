// Reads objects straight out of the cache's packs through their .idx files: a binary search in the
// index, one positioned read of the entry, node:zlib inflate, deltas applied from a small cache of
// bases. Every object returned is hashed and must be the id asked for, so a damaged pack is an
// error, never a wrong file in a deployment.
import { createHash } from 'node:crypto';
import { closeSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { applyDelta, DeltaError, PackProblem, TYPE_NAME, type PackObjectType } from './pack-format.ts';
import { listIndexes, nextOffset, openPack, readHeader, type Pack } from './pack-file.ts';
import { fileSource, inflateEntry } from './pack-inflate.ts';

export interface StoredObject {
  type: PackObjectType;
  content: Buffer;
}

/** An object stored whole, to be inflated piece by piece (see PackStore.stream). */
export interface StreamedObject {
  type: PackObjectType;
  size: number;
  /** Inflates the object into `sink`, piece by piece; resolves only once its bytes hash to its id. */
  pipe(sink: (piece: Buffer) => void): Promise<void>;
}

const OFS_DELTA = 6;
const REF_DELTA = 7;
/** Bases kept for later deltas: a checkout's blobs mostly share a few chains. */
const BASE_CACHE_BYTES = 32 * 1024 ** 2;
/** What copyWhole reads at a time: a large blob is copied through this much memory. */
const COPY_PIECE = 1024 ** 2;
/** Longer than any chain git makes (its default depth is 50); a ref-delta loop ends here. */
const MAX_CHAIN = 10_000;

/** Every pack of a cache, open for reading; close() when done. */
export class PackStore {
  private readonly packs: Pack[];
  private readonly bases = new Map<string, StoredObject>();
  private baseBytes = 0;

  constructor(gitdir: string) {
    const dir = join(gitdir, 'objects', 'pack');
    const names = listIndexes(dir);
    this.packs = [];
    try {
      for (const name of names) this.packs.push(openPack(join(dir, name)));
    } catch (error) {
      this.close();
      throw error;
    }
  }

  close(): void {
    for (const p of this.packs.splice(0)) closeSync(p.fd);
  }

  /** Whether a pack holds object `oid` (its index says so; nothing is read). */
  has(oid: string): boolean {
    return this.find(Buffer.from(oid, 'hex')) !== undefined;
  }

  /** Object `oid`, or undefined when no pack holds it. PackProblem when a pack holding it is damaged. */
  read(oid: string): StoredObject | undefined {
    const at = this.find(Buffer.from(oid, 'hex'));
    if (!at) return undefined;
    const object = this.readAt(at.pack, at.offset);
    const actual = createHash('sha1').update(`${object.type} ${object.content.length}\0`).update(object.content).digest('hex');
    if (actual !== oid) throw new PackProblem(`object ${oid} reads as ${actual}: a pack of the cache is damaged`);
    return object;
  }

  /**
   * Object `oid` as a stream, when a pack holds it whole (not as a delta) and it has at least
   * `minSize` bytes; else undefined, and read() gives it. A delta is rebuilt in memory by read():
   * its base and itself are held whole (git's own checkout does the same).
   */
  stream(oid: string, minSize: number): StreamedObject | undefined {
    const at = this.entryOf(oid);
    if (!at) return undefined;
    const { pack, offset, end, head } = at;
    const type = TYPE_NAME[head.type];
    if (type === undefined || head.size < minSize) return undefined;
    return {
      type,
      size: head.size,
      pipe: async (sink) => {
        const hash = createHash('sha1').update(`${type} ${head.size}\0`);
        await inflateEntry(fileSource(pack.fd, pack.size), offset, offset + head.dataAt, end, head.size, (piece) => {
          hash.update(piece);
          sink(piece);
        });
        const actual = hash.digest('hex');
        if (actual !== oid) throw new PackProblem(`object ${oid} reads as ${actual}: a pack of the cache is damaged`);
      },
    };
  }

  /**
   * Copies the entry of `oid` as stored (its header and deflated data) into `sink`, in pieces of
   * at most COPY_PIECE bytes, when a pack holds it whole, not as a delta: such an entry is the
   * same bytes in any pack (compact.ts). Whether it did. Nothing is verified: whoever writes the
   * bytes into a pack indexes it, which hashes every object (pack-index.ts).
   */
  copyWhole(oid: string, sink: (piece: Buffer) => void): boolean {
    const at = this.entryOf(oid);
    if (!at || !(at.head.type in TYPE_NAME)) return false;
    const { pack, offset, end } = at;
    for (let from = offset; from < end; ) {
      const piece = Buffer.allocUnsafe(Math.min(COPY_PIECE, end - from));
      const n = readSync(pack.fd, piece, 0, piece.length, from);
      if (n === 0) throw new PackProblem(`a pack of the cache ends inside the object at ${offset}`);
      sink(n === piece.length ? piece : piece.subarray(0, n));
      from += n;
    }
    return true;
  }

  /** Where the entry of `oid` lies, and its header; undefined when no pack holds it. */
  private entryOf(oid: string): { pack: Pack; offset: number; end: number; head: { type: number; size: number; dataAt: number } } | undefined {
    const at = this.find(Buffer.from(oid, 'hex'));
    if (!at) return undefined;
    const { pack, offset } = at;
    const end = nextOffset(pack, offset);
    if (offset < 12 || end <= offset) throw new PackProblem(`no object starts at ${offset} of a pack of the cache`);
    return { pack, offset, end, head: readHeader(pack, offset, Buffer.allocUnsafe(Math.min(32, end - offset))) };
  }

  private find(oid: Buffer): { pack: Pack; offset: number } | undefined {
    for (const pack of this.packs) {
      let lo = oid[0] === 0 ? 0 : pack.fanout[oid[0]! - 1]!;
      let hi = pack.fanout[oid[0]!]!;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const cmp = pack.names.compare(oid, 0, 20, mid * 20, mid * 20 + 20);
        if (cmp === 0) return { pack, offset: pack.offsets[mid]! };
        if (cmp < 0) lo = mid + 1;
        else hi = mid;
      }
    }
    return undefined;
  }

  private readAt(startPack: Pack, startOffset: number): StoredObject {
    const deltas: Buffer[] = [];
    /** The cache key of each delta's entry: deltas[0] is the object asked for. */
    const keys: string[] = [];
    let pack = startPack;
    let offset = startOffset;
    let base: StoredObject | undefined;
    for (let depth = 0; !base; depth++) {
      if (depth > MAX_CHAIN) throw new PackProblem(`a delta chain at ${offset} is longer than ${MAX_CHAIN}`);
      const cached = this.bases.get(key(pack, offset));
      if (cached) {
        base = cached;
        break;
      }
      const entry = readEntry(pack, offset);
      if (entry.type === OFS_DELTA || entry.type === REF_DELTA) {
        deltas.push(entry.data);
        keys.push(key(pack, offset));
        if (entry.baseOffset !== undefined) offset = entry.baseOffset;
        else {
          const at = this.find(entry.baseOid!);
          if (!at) throw new PackProblem(`the delta at ${offset} needs base ${entry.baseOid!.toString('hex')}, which no pack of the cache holds`);
          ({ pack, offset } = at);
        }
      } else {
        base = { type: TYPE_NAME[entry.type]!, content: entry.data };
        if (deltas.length > 0) this.keep(key(pack, offset), base);
      }
    }
    let content = base.content;
    for (let i = deltas.length - 1; i >= 0; i--) {
      try {
        content = applyDelta(content, deltas[i]!, Number.MAX_SAFE_INTEGER);
      } catch (error) {
        if (error instanceof DeltaError) throw new PackProblem(`a delta of the cache is invalid: ${error.message}`);
        throw error;
      }
      // The middle of a chain is the base of the next object of that chain, usually.
      if (i > 0) this.keep(keys[i]!, { type: base.type, content });
    }
    return { type: base.type, content };
  }

  private keep(k: string, object: StoredObject): void {
    if (object.content.length > BASE_CACHE_BYTES / 4 || this.bases.has(k)) return;
    this.bases.set(k, object);
    this.baseBytes += object.content.length;
    for (const [old, o] of this.bases) {
      if (this.baseBytes <= BASE_CACHE_BYTES) break;
      this.bases.delete(old);
      this.baseBytes -= o.content.length;
    }
  }
}

function key(pack: Pack, offset: number): string {
  return `${pack.fd}:${offset}`;
}

/** The entry at `offset`: its type, its inflated data (a delta's instructions for deltas), its base. */
function readEntry(pack: Pack, offset: number): { type: number; data: Buffer; baseOffset?: number; baseOid?: Buffer } {
  const end = nextOffset(pack, offset);
  if (offset < 12 || end <= offset) throw new PackProblem(`no object starts at ${offset} of a pack of the cache`);
  const raw = Buffer.allocUnsafe(end - offset);
  const head = readHeader(pack, offset, raw);
  const { type, size } = head;
  let at = head.dataAt;
  let c: number;
  let baseOffset: number | undefined;
  let baseOid: Buffer | undefined;
  if (type === OFS_DELTA) {
    c = raw[at++]!;
    let back = c & 0x7f;
    while (c & 0x80 && at < raw.length) {
      c = raw[at++]!;
      back = (back + 1) * 128 + (c & 0x7f);
    }
    baseOffset = offset - back;
  } else if (type === REF_DELTA) {
    baseOid = raw.subarray(at, at + 20);
    at += 20;
  } else if (!(type in TYPE_NAME)) throw new PackProblem(`the object at ${offset} of a pack of the cache has unknown type ${type}`);
  let data: Buffer;
  try {
    data = inflateSync(raw.subarray(at), { maxOutputLength: Math.max(1, size) });
  } catch (error) {
    throw new PackProblem(`the object at ${offset} of a pack of the cache does not inflate: ${(error as Error).message}`);
  }
  if (data.length !== size) throw new PackProblem(`the object at ${offset} of a pack of the cache has the wrong size`);
  return { type, data, ...(baseOffset === undefined ? {} : { baseOffset }), ...(baseOid === undefined ? {} : { baseOid }) };
}
