// Packs of whole (undeltified) objects for tests: a pack of filler blobs to take a cache past
// MAX_PACKS, or known objects whose index git itself writes (git index-pack).
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { objectHeader, packHeader, TYPE_CODE, type PackObjectType } from '../../src/git/pack-format.ts';

/** A version 2 pack of `objects`, each deflated whole, and its name (`pack-<trailer sha1>.pack`, git's naming). */
export function writePack(objects: readonly { type: PackObjectType; content: Uint8Array }[]): { name: string; data: Buffer } {
  const parts: Buffer[] = [packHeader(objects.length)];
  for (const { type, content } of objects) {
    parts.push(objectHeader(TYPE_CODE[type], content.length), deflateSync(content));
  }
  const body = Buffer.concat(parts);
  const trailer = createHash('sha1').update(body).digest();
  return { name: `pack-${trailer.toString('hex')}.pack`, data: Buffer.concat([body, trailer]) };
}
