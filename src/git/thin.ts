// Thin packs: a depth-1 fetch asks for deltas against objects the cache already has, which iso-git
// cannot read safely once two such packs exist; so each is rewritten self-contained right after.
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { indexPack, readObject } from 'isomorphic-git';
import { fs, type Cache } from './iso.ts';
import { listPackOids, writePack, type PackObjectType } from './pack.ts';

/** Marker of a thin fetch under way: the packs that existed before it, all self-contained. */
const THIN_MARKER = 'mfd-thin-fetch.json';

/** Notes the packs there are before a thin fetch, so fattenNewPacks knows which ones it added. */
export async function markThinFetch(gitdir: string): Promise<void> {
  await writeFile(join(gitdir, THIN_MARKER), JSON.stringify(await readdir(join(gitdir, 'objects', 'pack'))));
}

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
    await writeFile(join(packDir, filename), data);
    await indexPack({ fs, dir: gitdir, gitdir, filepath: join('objects', 'pack', filename), cache });
    if (filename !== name) await Promise.all([rm(join(packDir, name)), rm(idx)]);
  }
  await rm(marker);
}
