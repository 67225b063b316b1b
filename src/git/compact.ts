// Compaction of the cache: past MAX_PACKS packs it is rewritten as one pack of the last fetched
// commit and its tree. The new pack is complete before any old one goes, so a kill leaves it usable.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readCommit, readObject, resolveRef as readRef } from 'isomorphic-git';
import { writeFileAtomic } from '../state/atomicfile.ts';
import { pauseForTest } from '../sys/testhook.ts';
import { fs, LAST_FETCHED, newCache } from './iso.ts';
import { writePack, type PackObjectType } from './pack.ts';
import { indexPack } from './pack-index.ts';
import { storeIndexed } from './pack-receive.ts';
import { parseTree } from './treecheck.ts';

/** A tree of the last fetched commit that treecheck.ts refuses: compaction waits for another commit. */
class TreeUnusable extends Error {}

/** More packs than this and the cache is compacted (see compactCache). */
export const MAX_PACKS = 32;

/**
 * Every fetch adds a pack, and isomorphic-git looks an object up pack by pack, so a cache fetched
 * into a thousand times would slow every later run. Past MAX_PACKS, the cache is rewritten as a
 * depth-1 clone of the last fetched commit: one pack with that commit and its tree, which is all
 * a later fetch needs to stay incremental (its "have"). An older commit deployed again is simply
 * fetched again. The new pack is complete before anything is removed, so a kill at any point
 * leaves a usable cache; the next compaction removes what a killed one left.
 */
export async function compactCache(gitdir: string): Promise<void> {
  const packDir = join(gitdir, 'objects', 'pack');
  const indexes = (await readdir(packDir)).filter((n) => n.endsWith('.idx'));
  if (indexes.length <= MAX_PACKS) return;
  const last = await readRef({ fs, gitdir, ref: LAST_FETCHED });
  const cache = newCache();
  const objects: { type: PackObjectType; content: Uint8Array }[] = [];
  const seen = new Set<string>();
  const add = async (oid: string): Promise<void> => {
    if (seen.has(oid)) return;
    seen.add(oid);
    const { type, object } = await readObject({ fs, gitdir, oid, cache, format: 'content' });
    objects.push({ type: type as PackObjectType, content: object as Uint8Array });
    if (type === 'tree') {
      // Our parser, not iso-git's, which throws on modes such as 100664. A tree git refuses is
      // never checked out (treecheck.ts), so the cache keeps its packs until a good commit is last.
      const parsed = parseTree(object as Uint8Array);
      if (!parsed.ok) throw new TreeUnusable();
      // Submodule entries live in another repository.
      for (const entry of parsed.entries) if (entry.kind !== 'submodule') await add(entry.oid);
    }
  };
  try {
    await add(last);
    await add((await readCommit({ fs, gitdir, oid: last, cache })).commit.tree);
  } catch (error) {
    if (error instanceof TreeUnusable) return;
    throw error;
  }
  const { name, data } = writePack(objects);
  storeIndexed(packDir, await indexPack(data));
  // Its parents are gone: the last commit is now the cache's only shallow boundary.
  await writeFileAtomic(join(gitdir, 'shallow'), `${last}\n`);
  // Refs a short-sha search fetched point at commits that are gone.
  await Promise.all(['refs/tags', 'refs/remotes', 'packed-refs'].map((p) => rm(join(gitdir, p), { recursive: true, force: true })));
  // Crash tests kill mfd here, with the new pack complete and every old one still there...
  await pauseForTest('compact-written');
  // Every other pack goes, with any a killed fetch or compaction left without its index. Indexes
  // first: a pack without its index is invisible, an index without its pack would break reads.
  const keep = new Set([name, name.replace(/\.pack$/, '.idx')]);
  const old = (await readdir(packDir)).filter((file) => !keep.has(file));
  const remove = [...old.filter((f) => f.endsWith('.idx')), ...old.filter((f) => f.endsWith('.pack'))];
  for (const [i, file] of remove.entries()) {
    // ...and here, with half of them gone.
    if (i === Math.floor(remove.length / 2)) await pauseForTest('compact-removing');
    await rm(join(packDir, file), { force: true });
  }
}
