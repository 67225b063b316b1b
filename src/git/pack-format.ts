// The pieces of git's pack format that reading and writing packs share: type codes, a pack's and an
// object's header, and applying a delta (git's patch-delta.c rules, every length checked, nothing trusted).

export type PackObjectType = 'commit' | 'tree' | 'blob' | 'tag';
export const TYPE_CODE: Record<PackObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };
export const TYPE_NAME: Record<number, PackObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };

/** What is wrong with a pack, in one line of facts; git/ turns it into a PackInvalidError. */
export class PackProblem extends Error {}
/** What is wrong with a delta; the pack reader names the delta's offset. */
export class DeltaError extends Error {}

/** A version 2 pack's first 12 bytes: "PACK", the version, the object count. */
export function packHeader(count: number): Buffer {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(count, 8);
  return header;
}

/** Type and size: 3 type bits and the size's low 4 bits, then 7 bits per byte, low bits first. */
export function objectHeader(type: number, size: number): Buffer {
  const bytes = [(type << 4) | (size & 0x0f)];
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes[bytes.length - 1]! |= 0x80;
    bytes.push(rest & 0x7f);
    rest = Math.floor(rest / 128);
  }
  return Buffer.from(bytes);
}

/**
 * The object `delta` makes of `base`. The result's size is checked against `max` before anything
 * is allocated, and every copy and insert against both buffers, so a hostile delta can neither
 * read outside them nor make mfd allocate what it declares but does not produce.
 */
export function applyDelta(base: Uint8Array, delta: Uint8Array, max: number): Buffer {
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= delta.length) throw new DeltaError('its header is cut short');
      if (shift > 46) throw new DeltaError('its header declares an impossible size');
      const c = delta[at++]!;
      value += (c & 0x7f) * 2 ** shift;
      if (!(c & 0x80)) return value;
    }
  };
  const sourceSize = varint();
  if (sourceSize !== base.length) throw new DeltaError(`it expects a base of ${sourceSize} bytes, the base has ${base.length}`);
  const targetSize = varint();
  if (targetSize > max) throw new DeltaError(`it declares a result of ${targetSize} bytes`);
  // Each op is at least one byte and copies at most 2^24 bytes: a bound on what it can really make.
  if (targetSize > (delta.length - at) * 0x1000000) throw new DeltaError(`it declares ${targetSize} bytes and cannot make them`);
  const out = Buffer.allocUnsafe(targetSize);
  let written = 0;
  while (at < delta.length) {
    const cmd = delta[at++]!;
    if (cmd & 0x80) {
      let offset = 0;
      let size = 0;
      for (let bit = 0; bit < 4; bit++) if (cmd & (1 << bit)) offset += byteAt(delta, at++) * 2 ** (8 * bit);
      for (let bit = 0; bit < 3; bit++) if (cmd & (0x10 << bit)) size += byteAt(delta, at++) * 2 ** (8 * bit);
      if (size === 0) size = 0x10000;
      if (offset + size > base.length) throw new DeltaError(`it copies bytes ${offset}..${offset + size} of a ${base.length}-byte base`);
      if (written + size > targetSize) throw new DeltaError('it makes more bytes than it declares');
      out.set(base.subarray(offset, offset + size), written);
      written += size;
    } else if (cmd !== 0) {
      if (at + cmd > delta.length) throw new DeltaError('an insert runs past its end');
      if (written + cmd > targetSize) throw new DeltaError('it makes more bytes than it declares');
      out.set(delta.subarray(at, at + cmd), written);
      at += cmd;
      written += cmd;
    } else throw new DeltaError('it holds the reserved op 0');
  }
  if (written !== targetSize) throw new DeltaError(`it makes ${written} bytes, not the ${targetSize} it declares`);
  return out;
}

function byteAt(delta: Uint8Array, at: number): number {
  if (at >= delta.length) throw new DeltaError('a copy op is cut short');
  return delta[at]!;
}
