// Indexes a received pack in one pass, as `git index-pack --fix-thin` does: every object inflated
// once with node:zlib and hashed with node:crypto, deltas resolved from their bases in the pack (or,
// for a thin pack, from the cache: those bases are appended, so the pack is self-contained). The pack
// file is read in pieces and its objects inflated and hashed as streams; only a delta's base and
// result are held whole. Nothing from the server is trusted (PackProblem).
import { createHash } from 'node:crypto';
import { constants as bufferConstants } from 'node:buffer';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { applyDelta, DeltaError, PackProblem, TYPE_NAME, type PackObjectType } from './pack-format.ts';
import { crcRange, fileSource, inflateEntry, type PackSource } from './pack-inflate.ts';
import { appendBasesToFile, objectId, writeIdx } from './pack-write.ts';

export { PackProblem };

export interface PackObject {
  type: PackObjectType;
  content: Uint8Array;
}

/** A thin pack's missing delta base, by id: from the cache, or undefined when it has none. */
export type ExternalReader = (oid: string) => Promise<PackObject | undefined>;

export interface IndexedPack {
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

/**
 * Indexes the pack file at `path` without loading it: read in pieces, each object inflated and
 * hashed as it streams. A thin pack's bases are appended to the file in place, so the file is the
 * pack to store. PackProblem when it is not a valid pack.
 */
export async function indexPackFile(path: string, readExternal: ExternalReader = async () => undefined): Promise<IndexedPack> {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const r = await indexSource(fileSource(fd, size), readExternal);
    const trailer = r.appended.length === 0 ? fileSource(fd, size).read(size - 20, 20) : appendBasesToFile(fd, size, r.entries, r.appended);
    return { idx: writeIdx(r.entries, trailer), name: trailer.toString('hex'), objects: r.entries.length, appended: r.appended.length };
  } finally {
    closeSync(fd);
  }
}

async function indexSource(src: PackSource, readExternal: ExternalReader): Promise<{ entries: Entry[]; appended: PackObject[] }> {
  const head = src.read(0, 12);
  if (src.size < 32 || head.toString('latin1', 0, 4) !== 'PACK') throw new PackProblem('it does not start as a pack');
  const version = head.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw new PackProblem(`pack version ${version} is not one git writes`);
  const count = head.readUInt32BE(8);
  const bodyEnd = src.size - 20;
  const sum = createHash('sha1');
  for (let at = 0; at < bodyEnd; at += 1024 * 1024) sum.update(src.read(at, Math.min(1024 * 1024, bodyEnd - at)));
  if (!sum.digest().equals(src.read(bodyEnd, 20))) throw new PackProblem('its checksum does not match its bytes (truncated or corrupt)');
  const entries = await parseEntries(src, bodyEnd, count);
  const byOffset = new Map(entries.map((e) => [e.offset, e]));
  const ofsChildren = new Map<number, Entry[]>();
  const refChildren = new Map<string, Entry[]>();
  for (const e of entries) {
    if (e.type === OFS_DELTA) {
      if (!byOffset.has(e.baseOffset!)) throw new PackProblem(`the delta at ${e.offset} names base offset ${e.baseOffset}, where no object starts`);
      push(ofsChildren, e.baseOffset!, e);
    } else if (e.type === REF_DELTA) push(refChildren, e.baseOid!, e);
  }
  const resolve = (root: PackObject, rootOid: string, rootOffset: number | undefined) => resolveTree(src, root, rootOid, rootOffset, ofsChildren, refChildren);
  for (const e of entries) {
    if (e.type === OFS_DELTA || e.type === REF_DELTA) continue;
    if (!ofsChildren.has(e.offset) && !refChildren.has(e.oid!)) continue;
    resolve({ type: TYPE_NAME[e.type]!, content: inflateAt(src, e) }, e.oid!, e.offset);
  }
  // A thin pack: the bases left are objects the cache must have; they are appended, as git's --fix-thin does.
  const appended: PackObject[] = [];
  const external = [...refChildren.keys()].filter((oid) => refChildren.get(oid)!.some((c) => c.oid === undefined));
  const inPack = new Set(entries.map((e) => e.oid).filter((oid): oid is string => oid !== undefined));
  for (const oid of external.sort((a, b) => firstPos(refChildren, a) - firstPos(refChildren, b))) {
    if (inPack.has(oid) || refChildren.get(oid)!.every((c) => c.oid !== undefined)) continue;
    const base = await readExternal(oid);
    if (!base) continue;
    appended.push(base);
    resolve(base, oid, undefined);
  }
  const unresolved = entries.filter((e) => e.oid === undefined).length;
  if (unresolved > 0) throw new PackProblem(`${unresolved} delta(s) have no base in the pack or the cache`);
  return { entries, appended };
}

async function parseEntries(src: PackSource, bodyEnd: number, count: number): Promise<Entry[]> {
  const entries: Entry[] = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at >= bodyEnd) throw new PackProblem(`it announces ${count} objects and ends after ${i}`);
    const e = parseHeader(src, at, bodyEnd);
    // A whole object is hashed as it inflates; a delta's bytes are only measured, and inflated again against its base.
    const hash = e.type === OFS_DELTA || e.type === REF_DELTA ? undefined : createHash('sha1').update(`${TYPE_NAME[e.type]!} ${e.size}\0`);
    const consumed = await inflateEntry(src, e.offset, e.dataStart, bodyEnd, e.size, (piece) => hash?.update(piece));
    if (hash) e.oid = hash.digest('hex');
    e.end = e.dataStart + consumed;
    e.crc = crcRange(src, e.offset, e.end);
    entries.push(e);
    at = e.end;
  }
  if (at !== bodyEnd) throw new PackProblem(`${bodyEnd - at} bytes follow its last object`);
  return entries;
}

function parseHeader(src: PackSource, offset: number, bodyEnd: number): Entry {
  // No header is longer: a size of 7 bytes, an offset of 7, or a 20-byte base id.
  const pack = src.read(offset, Math.min(40, bodyEnd - offset));
  let at = offset;
  const byte = () => {
    if (at >= bodyEnd) throw new PackProblem(`the object at ${offset} is cut short`);
    return pack[at++ - offset]!;
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
    e.baseOid = pack.toString('hex', at - offset, at - offset + 20);
    at += 20;
  }
  e.dataStart = at;
  return e;
}

/** The entry's data, whole: only a delta and its base are ever inflated so. */
function inflateAt(src: PackSource, e: Entry): Buffer {
  let data: Buffer;
  try {
    data = inflateSync(src.read(e.dataStart, e.end - e.dataStart), { maxOutputLength: Math.min(e.size + 1, MAX_OBJECT) });
  } catch (error) {
    throw new PackProblem(`the object at ${e.offset} does not inflate: ${(error as Error).message}`);
  }
  if (data.length !== e.size) throw new PackProblem(`the object at ${e.offset} inflates to ${data.length} bytes, not the ${e.size} it declares`);
  return data;
}

/**
 * Resolves every delta below `root`, depth first. A base's content is dropped as soon as its last
 * child takes it, so a long chain holds two objects at a time, not the chain.
 */
function resolveTree(src: PackSource, root: PackObject, rootOid: string, rootOffset: number | undefined, ofsChildren: Map<number, Entry[]>, refChildren: Map<string, Entry[]>): void {
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
    const delta = inflateAt(src, child);
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

function push<K>(map: Map<K, Entry[]>, key: K, e: Entry): void {
  const list = map.get(key);
  if (list) list.push(e);
  else map.set(key, [e]);
}

function firstPos(refChildren: Map<string, Entry[]>, oid: string): number {
  return Math.min(...refChildren.get(oid)!.map((c) => c.offset));
}
