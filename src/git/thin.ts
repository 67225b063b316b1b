// Thin packs left by an older mfd: its fetches stored a thin pack and rewrote it self-contained
// right after, so a kill in between left one, noted by a marker. Fetches now store only
// self-contained packs (pack-receive.ts); this repairs what an older version left.
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from '../sys/files.ts';
import { join } from 'node:path';
import { readObject } from 'isomorphic-git';
import { fs, type Cache } from './iso.ts';
import { listPackOids, writePack, type PackObjectType } from './pack.ts';
import { indexPack } from './pack-index.ts';
import { storeIndexed } from './pack-receive.ts';

/** Marker of a thin fetch under way: the packs that existed before it, all self-contained. */
const THIN_MARKER = 'mfd-thin-fetch.json';

/**
 * Rewrites the packs a thin fetch added (those THIN_MARKER does not list) as self-contained ones,
 * as `git index-pack --fix-thin` does, then drops the marker. iso-git looks a delta's base up in
 * every pack, so two thin packs holding one object as deltas in opposite directions would send a
 * read round in circles forever; with at most one thin pack, and only during a fetch, never.
 */
export async function fattenNewPacks(gitdir: string, cache: Cache): Promise<void> {
  const marker = join(gitdir, THIN_MARKER);
  if (!existsSync(marker)) return;
  const before = new Set(JSON.parse(await readFile(marker, 'utf8')) as string[]);
  const packDir = join(gitdir, 'objects', 'pack');
  for (const name of await readdir(packDir)) {
    const idx = join(packDir, name.replace(/\.pack$/, '.idx'));
    // A pack without its index is invisible to iso-git: a fetch killed while writing it.
    if (!name.endsWith('.pack') || before.has(name) || !existsSync(idx)) continue;
    const objects = [];
    for (const oid of listPackOids(await readFile(idx))) {
      const { type, object } = await readObject({ fs, gitdir, oid, cache, format: 'content' });
      objects.push({ type: type as PackObjectType, content: object as Uint8Array });
    }
    const { name: filename, data } = writePack(objects);
    // A kill before its index exists leaves it invisible; the next fetch rewrites it under the same name.
    storeIndexed(packDir, await indexPack(data));
    if (filename !== name) await Promise.all([rm(join(packDir, name)), rm(idx)]);
  }
  await rm(marker);
}
