// Finds the packs of the cache that a crash left damaged. isomorphic-git writes a fetched pack and
// its index with plain writes (no temp file, no fsync), so a kill between creating the index and
// filling it, or a power cut before the disk had them, leaves an empty or truncated .idx or .pack.
// isomorphic-git then fails on every read of the cache (a TypeError deep in its pack reader), and
// every later deploy with it. Both files end in checksums that make the damage cheap to see:
// an index ends with the pack's SHA-1 and its own; a pack ends with its SHA-1.
import { createHash } from 'node:crypto';
import { open, readdir, readFile } from '../sys/files.ts';
import { join } from 'node:path';

/** Fan-out table (256 × 4 bytes) and the two trailing checksums: the least any index holds. */
const MIN_INDEX_BYTES = 1024 + 40;
const PACK_HEADER_BYTES = 12;

/** Names (`pack-<sha>.pack`) of the packs in `packDir` whose index or pack is damaged or missing. */
export async function damagedPacks(packDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(packDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const damaged: string[] = [];
  // A pack without an index is invisible to isomorphic-git, not damage (removeLeftovers, pack-receive.ts, removes those).
  for (const idx of names.filter((n) => n.endsWith('.idx'))) {
    const pack = idx.replace(/\.idx$/, '.pack');
    if (!(await isIntact(join(packDir, idx), join(packDir, pack)))) damaged.push(pack);
  }
  return damaged;
}

async function isIntact(idxPath: string, packPath: string): Promise<boolean> {
  const index = await readFile(idxPath);
  if (index.length < MIN_INDEX_BYTES) return false;
  const body = index.subarray(0, -20);
  if (!createHash('sha1').update(body).digest().equals(index.subarray(-20))) return false;
  const packSum = index.subarray(-40, -20);
  let handle;
  try {
    handle = await open(packPath, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size < PACK_HEADER_BYTES + 20) return false;
    const tail = Buffer.alloc(20);
    await handle.read(tail, 0, 20, size - 20);
    // The whole pack is not hashed (tens of MiB on every deploy): a truncated or zero-filled tail
    // is what a crash leaves, and it no longer ends in the checksum its index recorded.
    return tail.equals(packSum);
  } finally {
    await handle.close();
  }
}
