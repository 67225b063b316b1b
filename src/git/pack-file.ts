// A pack of the cache opened through its .idx (version 2): the fanout, the names and the offsets
// pack-read.ts searches, and where each entry lies in the pack file.
import { fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { PackProblem } from './pack-format.ts';

export interface Pack {
  fd: number;
  size: number;
  fanout: Uint32Array;
  names: Buffer;
  /** Entry offsets in the index's (name) order, and the same sorted, to find where an entry ends. */
  offsets: Float64Array;
  sortedOffsets: Float64Array;
}

export function listIndexes(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.idx')).sort();
  } catch (error) {
    // No cache yet: no packs, so every object is "not found" and the caller says which.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export function openPack(idxPath: string): Pack {
  const idx = readFileSync(idxPath);
  if (idx.length < 8 + 1024 + 40 || idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2) {
    throw new PackProblem(`${idxPath} is not a version 2 pack index`);
  }
  const fanout = new Uint32Array(256);
  for (let i = 0; i < 256; i++) fanout[i] = idx.readUInt32BE(8 + i * 4);
  const n = fanout[255]!;
  const namesAt = 8 + 1024;
  const offsetsAt = namesAt + n * 24;
  if (idx.length < offsetsAt + n * 4 + 40) throw new PackProblem(`${idxPath} is truncated`);
  const largeAt = offsetsAt + n * 4;
  const offsets = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = idx.readUInt32BE(offsetsAt + i * 4);
    if (v & 0x80000000) {
      const at = largeAt + (v & 0x7fffffff) * 8;
      if (at + 8 > idx.length - 40) throw new PackProblem(`${idxPath} is truncated`);
      offsets[i] = Number(idx.readBigUInt64BE(at));
    } else offsets[i] = v;
  }
  const fd = openSync(idxPath.replace(/\.idx$/, '.pack'), 'r');
  return { fd, size: fstatSync(fd).size, fanout, names: idx.subarray(namesAt, namesAt + n * 20), offsets, sortedOffsets: Float64Array.from(offsets).sort() };
}

export /** The type and size of the entry at `offset`, read into `raw` (as many of its bytes as `raw` holds), and where its data starts in them. */
function readHeader(pack: Pack, offset: number, raw: Buffer): { type: number; size: number; dataAt: number } {
  let got = 0;
  while (got < raw.length) {
    const n = readSync(pack.fd, raw, got, raw.length - got, offset + got);
    if (n === 0) throw new PackProblem(`a pack of the cache ends inside the object at ${offset}`);
    got += n;
  }
  let at = 0;
  let c = raw[at++]!;
  const type = (c >> 4) & 7;
  let size = c & 15;
  for (let shift = 4; c & 0x80; shift += 7) {
    if (at >= raw.length || shift > 46) throw new PackProblem(`the object at ${offset} of a pack of the cache has a bad header`);
    c = raw[at++]!;
    size += (c & 0x7f) * 2 ** shift;
  }
  return { type, size, dataAt: at };
}

export /** Where the entry at `offset` ends: the next entry's start, or the trailer. */
function nextOffset(pack: Pack, offset: number): number {
  const s = pack.sortedOffsets;
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid]! <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo < s.length ? s[lo]! : pack.size - 20;
}
