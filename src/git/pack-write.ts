// What the indexer writes: a thin pack's bases appended to its file (the count and trailer
// rewritten), and the version 2 .idx, byte for byte what git index-pack writes.
import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { objectHeader, TYPE_CODE, type PackObjectType } from './pack-format.ts';
import { fileSource } from './pack-inflate.ts';

/** What the .idx needs of each entry. */
export interface IdxEntry {
  offset: number;
  oid?: string;
  crc: number;
}

export interface WholeObject {
  type: PackObjectType;
  content: Uint8Array;
}

/** Appends `bases` whole to the pack file `fd` of `size` bytes (open for reading and writing), its object count and trailer rewritten; returns the new trailer. */
export function appendBasesToFile(fd: number, size: number, entries: IdxEntry[], bases: WholeObject[]): Buffer {
  let at = size - 20;
  for (const base of bases) {
    const raw = rawEntry(base);
    entries.push({ offset: at, oid: objectId(base.type, base.content), crc: crc32(raw) });
    writeAll(fd, raw, at);
    at += raw.length;
  }
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length);
  writeAll(fd, count, 8);
  const hash = createHash('sha1');
  const src = fileSource(fd, at);
  for (let p = 0; p < at; p += 1024 * 1024) hash.update(src.read(p, Math.min(1024 * 1024, at - p)));
  const trailer = hash.digest();
  writeAll(fd, trailer, at);
  return trailer;
}

/** A version 2 .idx, as git index-pack writes it: fan-out, sorted names, CRC32s, offsets, checksums. */
export function writeIdx(entries: IdxEntry[], packSum: Buffer): Buffer {
  const sorted = entries.map((e) => ({ oid: Buffer.from(e.oid!, 'hex'), e })).sort((a, b) => Buffer.compare(a.oid, b.oid) || a.e.offset - b.e.offset);
  const n = sorted.length;
  const large = sorted.filter(({ e }) => e.offset > 0x7fffffff).length;
  const out = Buffer.alloc(8 + 1024 + n * 28 + large * 8 + 40);
  out.writeUInt32BE(0xff744f63, 0);
  out.writeUInt32BE(2, 4);
  let k = 0;
  for (let b = 0; b < 256; b++) {
    while (k < n && sorted[k]!.oid[0]! <= b) k++;
    out.writeUInt32BE(k, 8 + b * 4);
  }
  const names = 8 + 1024;
  const crcs = names + n * 20;
  const offsets = crcs + n * 4;
  const larges = offsets + n * 4;
  let nextLarge = 0;
  sorted.forEach(({ oid, e }, i) => {
    oid.copy(out, names + i * 20);
    out.writeUInt32BE(e.crc, crcs + i * 4);
    if (e.offset > 0x7fffffff) {
      out.writeUInt32BE((0x80000000 | nextLarge) >>> 0, offsets + i * 4);
      out.writeBigUInt64BE(BigInt(e.offset), larges + nextLarge++ * 8);
    } else out.writeUInt32BE(e.offset, offsets + i * 4);
  });
  const tail = larges + large * 8;
  packSum.copy(out, tail);
  createHash('sha1').update(out.subarray(0, tail + 20)).digest().copy(out, tail + 20);
  return out;
}

export function objectId(type: PackObjectType, content: Uint8Array): string {
  return createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');
}

function rawEntry(base: WholeObject): Buffer {
  return Buffer.concat([objectHeader(TYPE_CODE[base.type], base.content.length), deflateSync(base.content)]);
}

function writeAll(fd: number, bytes: Buffer, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}
