// Which objects a pack index (.idx, version 2, the only version git and isomorphic-git write)
// holds: compact.ts checks a compacted pack against it.

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
