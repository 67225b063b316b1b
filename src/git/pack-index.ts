// Indexes a received pack in one pass, as `git index-pack --fix-thin` does: every object inflated
// once with node:zlib and hashed with node:crypto, deltas resolved from their bases in the pack (or,
// for a thin pack, from the cache: those bases are appended, so the pack is self-contained). Pure:
// bytes in, the .idx (byte for byte git's) out. Nothing from the server is trusted (PackProblem).
import { createHash } from 'node:crypto';
import { constants as bufferConstants } from 'node:buffer';
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { applyDelta, DeltaError, objectHeader, PackProblem, TYPE_CODE, TYPE_NAME, type PackObjectType } from './pack-format.ts';

export { PackProblem };

export interface PackObject {
  type: PackObjectType;
  content: Uint8Array;
}

/** A thin pack's missing delta base, by id: from the cache, or undefined when it has none. */
export type ExternalReader = (oid: string) => Promise<PackObject | undefined>;

export interface IndexedPack {
  /** The pack as it must be stored: the input, or with the thin pack's bases appended. */
  pack: Buffer;
  idx: Buffer;
  /** The pack's trailer in hex: its file is `pack-<name>.pack`. */
  name: string;
  objects: number;
  /** Bases appended from the cache (a thin pack made self-contained). */
  appended: number;
}

interface Entry {
  offset: number;
  /** End of its compressed bytes: the next entry's offset. */
  end: number;
  type: number;
  dataStart: number;
  size: number;
  baseOffset?: number;
  baseOid?: string;
  oid?: string;
  crc: number;
}

const OFS_DELTA = 6;
const REF_DELTA = 7;
const MAX_OBJECT = bufferConstants.MAX_LENGTH;

/** Indexes `pack` (a whole pack file, trailer included); PackProblem when it is not a valid one. */
export async function indexPack(pack: Buffer, readExternal: ExternalReader = async () => undefined): Promise<IndexedPack> {
  if (pack.length < 32 || pack.toString('latin1', 0, 4) !== 'PACK') throw new PackProblem('it does not start as a pack');
  const version = pack.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw new PackProblem(`pack version ${version} is not one git writes`);
  const count = pack.readUInt32BE(8);
  const bodyEnd = pack.length - 20;
  const trailer = pack.subarray(bodyEnd);
  if (!createHash('sha1').update(pack.subarray(0, bodyEnd)).digest().equals(trailer)) throw new PackProblem('its checksum does not match its bytes (truncated or corrupt)');
  const entries = parseEntries(pack, bodyEnd, count);
  const byOffset = new Map(entries.map((e) => [e.offset, e]));
  const ofsChildren = new Map<number, Entry[]>();
  const refChildren = new Map<string, Entry[]>();
  for (const e of entries) {
    if (e.type === OFS_DELTA) {
      if (!byOffset.has(e.baseOffset!)) throw new PackProblem(`the delta at ${e.offset} names base offset ${e.baseOffset}, where no object starts`);
      push(ofsChildren, e.baseOffset!, e);
    } else if (e.type === REF_DELTA) push(refChildren, e.baseOid!, e);
  }
  const resolve = (root: PackObject, rootOid: string, rootOffset: number | undefined) => resolveTree(pack, root, rootOid, rootOffset, ofsChildren, refChildren);
  for (const e of entries) {
    if (e.type === OFS_DELTA || e.type === REF_DELTA) continue;
    if (!ofsChildren.has(e.offset) && !refChildren.has(e.oid!)) continue;
    resolve({ type: TYPE_NAME[e.type]!, content: inflateAt(pack, e, e.size) }, e.oid!, e.offset);
  }
  // A thin pack: the bases left are objects the cache must have; they are appended, as git's --fix-thin does.
  const appendedObjects: PackObject[] = [];
  const external = [...refChildren.keys()].filter((oid) => refChildren.get(oid)!.some((c) => c.oid === undefined));
  const inPack = new Set(entries.map((e) => e.oid).filter((oid): oid is string => oid !== undefined));
  for (const oid of external.sort((a, b) => firstPos(refChildren, a) - firstPos(refChildren, b))) {
    if (inPack.has(oid) || refChildren.get(oid)!.every((c) => c.oid !== undefined)) continue;
    const base = await readExternal(oid);
    if (!base) continue;
    appendedObjects.push(base);
    resolve(base, oid, undefined);
  }
  const unresolved = entries.filter((e) => e.oid === undefined).length;
  if (unresolved > 0) throw new PackProblem(`${unresolved} delta(s) have no base in the pack or the cache`);
  const final = appendedObjects.length === 0 ? { pack, trailer: Buffer.from(trailer) } : appendBases(pack, entries, appendedObjects);
  return { pack: final.pack, idx: writeIdx(entries, final.trailer), name: final.trailer.toString('hex'), objects: entries.length, appended: appendedObjects.length };
}

function parseEntries(pack: Buffer, bodyEnd: number, count: number): Entry[] {
  const entries: Entry[] = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at >= bodyEnd) throw new PackProblem(`it announces ${count} objects and ends after ${i}`);
    const e = parseHeader(pack, at, bodyEnd);
    // A whole object is hashed now; a delta's bytes are only measured, and inflated again against its base.
    const { data, consumed } = inflate(pack, e, e.size);
    if (e.type !== OFS_DELTA && e.type !== REF_DELTA) e.oid = objectId(TYPE_NAME[e.type]!, data);
    e.end = e.dataStart + consumed;
    e.crc = crc32(pack.subarray(e.offset, e.end));
    entries.push(e);
    at = e.end;
  }
  if (at !== bodyEnd) throw new PackProblem(`${bodyEnd - at} bytes follow its last object`);
  return entries;
}

function parseHeader(pack: Buffer, offset: number, bodyEnd: number): Entry {
  let at = offset;
  const byte = () => {
    if (at >= bodyEnd) throw new PackProblem(`the object at ${offset} is cut short`);
    return pack[at++]!;
  };
  let c = byte();
  const type = (c >> 4) & 7;
  let size = c & 15;
  for (let shift = 4; c & 0x80; shift += 7) {
    if (shift > 46) throw new PackProblem(`the object at ${offset} declares an impossible size`);
    c = byte();
    size += (c & 0x7f) * 2 ** shift;
  }
  if (!(type in TYPE_NAME) && type !== OFS_DELTA && type !== REF_DELTA) throw new PackProblem(`the object at ${offset} has unknown type ${type}`);
  if (size > MAX_OBJECT) throw new PackProblem(`the object at ${offset} declares ${size} bytes, more than mfd can hold`);
  const e: Entry = { offset, end: 0, type, dataStart: 0, size, crc: 0 };
  if (type === OFS_DELTA) {
    c = byte();
    let back = c & 0x7f;
    while (c & 0x80) {
      if (back > 2 ** 45) throw new PackProblem(`the delta at ${offset} names an impossible base offset`);
      c = byte();
      back = (back + 1) * 128 + (c & 0x7f);
    }
    if (back <= 0 || back > offset - 12) throw new PackProblem(`the delta at ${offset} names a base outside the pack`);
    e.baseOffset = offset - back;
  } else if (type === REF_DELTA) {
    if (at + 20 > bodyEnd) throw new PackProblem(`the delta at ${offset} is cut short`);
    e.baseOid = pack.toString('hex', at, at + 20);
    at += 20;
  }
  e.dataStart = at;
  return e;
}

function inflateAt(pack: Buffer, e: Entry, size: number): Buffer {
  return inflate(pack, e, size).data;
}

/** The entry's data, checked to inflate to exactly `size` bytes, and its compressed length. */
function inflate(pack: Buffer, e: Entry, size: number): { data: Buffer; consumed: number } {
  // Before the first pass has measured it, an entry runs at most to the trailer.
  const input = pack.subarray(e.dataStart, e.end > 0 ? e.end : pack.length - 20);
  let result;
  try {
    // At most one byte more than declared: enough to see a lie, never an unbounded buffer.
    result = inflateSync(input, { info: true, maxOutputLength: Math.min(size + 1, MAX_OBJECT) }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
  } catch (error) {
    throw new PackProblem(`the object at ${e.offset} does not inflate: ${(error as Error).message}`);
  }
  if (result.buffer.length !== size) throw new PackProblem(`the object at ${e.offset} inflates to ${result.buffer.length} bytes, not the ${size} it declares`);
  return { data: result.buffer, consumed: result.engine.bytesWritten };
}

/**
 * Resolves every delta below `root`, depth first. A base's content is dropped as soon as its last
 * child takes it, so a long chain holds two objects at a time, not the chain.
 */
function resolveTree(pack: Buffer, root: PackObject, rootOid: string, rootOffset: number | undefined, ofsChildren: Map<number, Entry[]>, refChildren: Map<string, Entry[]>): void {
  const childrenOf = (oid: string, offset: number | undefined) => [
    ...(offset === undefined ? [] : (ofsChildren.get(offset) ?? [])),
    ...(refChildren.get(oid) ?? []).filter((c) => c.oid === undefined),
  ];
  const stack: { base: PackObject; children: Entry[] }[] = [{ base: root, children: childrenOf(rootOid, rootOffset) }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const child = top.children.shift();
    if (!child) {
      stack.pop();
      continue;
    }
    if (top.children.length === 0) stack.pop();
    if (child.oid !== undefined) continue;
    const delta = inflateAt(pack, child, child.size);
    let content: Buffer;
    try {
      content = applyDelta(top.base.content, delta, MAX_OBJECT);
    } catch (error) {
      if (error instanceof DeltaError) throw new PackProblem(`the delta at ${child.offset} is invalid: ${error.message}`);
      throw error;
    }
    child.oid = objectId(top.base.type, content);
    const children = childrenOf(child.oid, child.offset);
    if (children.length > 0) stack.push({ base: { type: top.base.type, content }, children });
  }
}

/** The pack with `bases` appended whole, its object count and trailer rewritten. */
function appendBases(pack: Buffer, entries: Entry[], bases: PackObject[]): { pack: Buffer; trailer: Buffer } {
  const parts: Buffer[] = [pack.subarray(0, pack.length - 20)];
  let at = pack.length - 20;
  for (const base of bases) {
    const header = objectHeader(TYPE_CODE[base.type], base.content.length);
    const raw = Buffer.concat([header, deflateSync(base.content)]);
    entries.push({ offset: at, end: at + raw.length, type: TYPE_CODE[base.type], dataStart: at + header.length, size: base.content.length, oid: objectId(base.type, base.content), crc: crc32(raw) });
    parts.push(raw);
    at += raw.length;
  }
  const body = Buffer.concat(parts);
  body.writeUInt32BE(entries.length, 8);
  const trailer = createHash('sha1').update(body).digest();
  return { pack: Buffer.concat([body, trailer]), trailer };
}

/** A version 2 .idx, as git index-pack writes it: fan-out, sorted names, CRC32s, offsets, checksums. */
function writeIdx(entries: Entry[], packSum: Buffer): Buffer {
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

function objectId(type: PackObjectType, content: Uint8Array): string {
  return createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');
}

function push<K>(map: Map<K, Entry[]>, key: K, e: Entry): void {
  const list = map.get(key);
  if (list) list.push(e);
  else map.set(key, [e]);
}

function firstPos(refChildren: Map<string, Entry[]>, oid: string): number {
  return Math.min(...refChildren.get(oid)!.map((c) => c.offset));
}
