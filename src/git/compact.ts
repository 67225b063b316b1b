// Compaction of the cache: past MAX_PACKS packs it is rewritten as one pack of the last fetched
// commit and its tree. The new pack is complete before any old one goes, so a kill leaves it usable.
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { readdir, rm } from '../sys/files.ts';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { resolveRef as readRef } from 'isomorphic-git';
import { writeFileAtomic } from '../state/atomicfile.ts';
import { pauseForTest } from '../sys/testhook.ts';
import { fs, LAST_FETCHED } from './iso.ts';
import { listPackOids } from './pack.ts';
import { objectHeader, packHeader, PackProblem, TYPE_CODE } from './pack-format.ts';
import { indexPackFile } from './pack-index.ts';
import { PackStore } from './pack-read.ts';
import { storeIndexed, tempName } from './pack-receive.ts';
import { parseTree } from './treecheck.ts';

/** A tree of the last fetched commit that treecheck.ts refuses, or an object in no pack: compaction waits for another commit. */
class NotCompactable extends Error {}

/** More packs than this and the cache is compacted (see compactCache). */
export const MAX_PACKS = 32;

/**
 * Every fetch adds a pack, and isomorphic-git looks an object up pack by pack, so a cache fetched
 * into a thousand times would slow every later run. Past MAX_PACKS, the cache is rewritten as a
 * depth-1 clone of the last fetched commit: one pack with that commit and its tree, which is all
 * a later fetch needs to stay incremental (its "have"). An older commit deployed again is simply
 * fetched again. The new pack is complete before anything is removed, so a kill at any point
 * leaves a usable cache; the next compaction removes what a killed one left.
 *
 * Written to its file object by object and indexed from there, never held in memory: an object
 * stored whole is copied as its bytes are (pack-read.ts copyWhole), one stored as a delta is
 * rebuilt and deflated on its own. The index then hashes every object, and the pack is kept only
 * if it holds exactly the objects walked.
 */
export async function compactCache(gitdir: string): Promise<void> {
  const packDir = join(gitdir, 'objects', 'pack');
  const indexes = (await readdir(packDir)).filter((n) => n.endsWith('.idx'));
  if (indexes.length <= MAX_PACKS) return;
  const last = await readRef({ fs, gitdir, ref: LAST_FETCHED });
  const store = new PackStore(gitdir);
  let temp: string | undefined;
  let name: string;
  try {
    let oids: string[];
    try {
      oids = commitObjects(store, last);
    } catch (error) {
      if (error instanceof NotCompactable) return;
      throw error;
    }
    temp = tempName(packDir);
    writePackFile(store, oids, temp);
    const indexed = await indexPackFile(temp);
    const held = listPackOids(indexed.idx);
    const walked = [...oids].sort();
    if (held.length !== walked.length || held.some((oid, i) => oid !== walked[i])) {
      throw new PackProblem('the compacted pack does not hold the objects it was written from: a pack of the cache is damaged');
    }
    storeIndexed(packDir, indexed, temp);
    temp = undefined;
    name = `pack-${indexed.name}.pack`;
  } finally {
    store.close();
    if (temp !== undefined) await rm(temp, { force: true });
  }
  // Its parents are gone: the last commit is now the cache's only shallow boundary.
  // No writer pid, as in shallow.ts: the cache lock proves a leftover abandoned.
  await writeFileAtomic(join(gitdir, 'shallow'), `${last}\n`);
  // Refs a short-sha search fetched point at commits that are gone.
  await Promise.all(['refs/tags', 'refs/remotes', 'packed-refs'].map((p) => rm(join(gitdir, p), { recursive: true, force: true })));
  // Crash tests kill mfd here, with the new pack complete and every old one still there...
  await pauseForTest('compact-written');
  // Every other pack goes, with any a killed fetch or compaction left without its index or half
  // written (the cache lock is held: no other run writes one now). Indexes
  // first: a pack without its index is invisible, an index without its pack would break reads.
  const keep = new Set([name, name.replace(/\.pack$/, '.idx')]);
  const old = (await readdir(packDir)).filter((file) => !keep.has(file));
  const remove = [...old.filter((f) => f.endsWith('.idx')), ...old.filter((f) => f.endsWith('.pack') || f.startsWith('tmp_pack_'))];
  for (const [i, file] of remove.entries()) {
    // ...and here, with half of them gone.
    if (i === Math.floor(remove.length / 2)) await pauseForTest('compact-removing');
    await rm(join(packDir, file), { force: true });
  }
}

/** Commit `sha`, its tree and everything in it (submodules aside), each once, in walk order. */
function commitObjects(store: PackStore, sha: string): string[] {
  const commit = store.read(sha);
  if (commit?.type !== 'commit') throw new NotCompactable();
  const tree = /^tree ([0-9a-f]{40})\n/.exec(commit.content.toString('latin1', 0, 46))?.[1];
  if (tree === undefined) throw new PackProblem(`commit ${sha} of the cache names no tree`);
  const oids = [sha];
  const seen = new Set(oids);
  const walk = (oid: string): void => {
    const object = store.read(oid);
    if (object?.type !== 'tree') throw new NotCompactable();
    // Our parser, not iso-git's, which throws on modes such as 100664. A tree git refuses is never
    // checked out (treecheck.ts), so the cache keeps its packs until a good commit is last.
    const parsed = parseTree(object.content);
    if (!parsed.ok) throw new NotCompactable();
    for (const entry of parsed.entries) {
      // Submodule entries live in another repository.
      if (entry.kind === 'submodule' || seen.has(entry.oid)) continue;
      seen.add(entry.oid);
      oids.push(entry.oid);
      if (entry.kind === 'tree') walk(entry.oid);
      else if (!store.has(entry.oid)) throw new NotCompactable();
    }
  };
  seen.add(tree);
  oids.push(tree);
  walk(tree);
  return oids;
}

/** A version 2 pack of `oids` at `path`, written through a SHA-1 of every byte for its trailer. */
function writePackFile(store: PackStore, oids: readonly string[], path: string): void {
  const fd = openSync(path, 'wx', 0o644);
  try {
    const hash = createHash('sha1');
    const put = (bytes: Buffer): void => {
      hash.update(bytes);
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
    };
    put(packHeader(oids.length));
    for (const oid of oids) {
      if (store.copyWhole(oid, put)) continue;
      const object = store.read(oid);
      if (!object) throw new PackProblem(`object ${oid} of the cache went missing while it was compacted`);
      put(Buffer.concat([objectHeader(TYPE_CODE[object.type], object.content.length), deflateSync(object.content)]));
    }
    for (let done = 0, trailer = hash.digest(); done < 20; ) done += writeSync(fd, trailer, done);
  } finally {
    closeSync(fd);
  }
}
