// Pure helpers for git pack files: which objects a pack index (.idx, version 2, the only version
// isomorphic-git writes) holds, and writing a pack of whole objects, so thin.ts can rewrite a thin pack.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { objectHeader, packHeader, TYPE_CODE, type PackObjectType } from './pack-format.ts';

export type { PackObjectType };

const IDX_MAGIC = 0xff744f63; // "\377tOc"
const FANOUT_END = 8 + 255 * 4;
const NAMES_START = 8 + 256 * 4;

/** The ids of every object in the pack that `idx` indexes, in the index's (sorted) order. */
export function listPackOids(idx: Buffer): string[] {
  if (idx.length < NAMES_START || idx.readUInt32BE(0) !== IDX_MAGIC || idx.readUInt32BE(4) !== 2) {
    throw new Error('not a version 2 pack index');
  }
  const count = idx.readUInt32BE(FANOUT_END);
  if (idx.length < NAMES_START + count * 20) throw new Error(`pack index truncated: ${count} objects announced`);
  return Array.from({ length: count }, (_, i) => idx.toString('hex', NAMES_START + i * 20, NAMES_START + (i + 1) * 20));
}

/**
 * A version 2 pack of whole (undeltified) objects, each deflated with node:zlib, and its name
 * (`pack-<trailer sha1>.pack`, git's naming): thin.ts makes a thin pack self-contained with one,
 * compact.ts the compacted cache. isomorphic-git's own packObjects deflates through web streams,
 * object by object, several times slower.
 */
export function writePack(objects: readonly { type: PackObjectType; content: Uint8Array }[]): { name: string; data: Buffer } {
  const parts: Buffer[] = [packHeader(objects.length)];
  for (const { type, content } of objects) {
    parts.push(objectHeader(TYPE_CODE[type], content.length), deflateSync(content));
  }
  const body = Buffer.concat(parts);
  const trailer = createHash('sha1').update(body).digest();
  return { name: `pack-${trailer.toString('hex')}.pack`, data: Buffer.concat([body, trailer]) };
}
