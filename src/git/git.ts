// The isomorphic-git wrapper, and its only importer: resolves refs through one ref advertisement,
// fetches commits into the cached bare repository incrementally, and checks trees out with no .git.
// Credentials travel only through onAuth: never in a URL, a file, or a message.
import { existsSync, promises as fsp } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  addRemote,
  expandOid,
  fetch as fetchPack,
  getConfig,
  indexPack,
  init,
  listServerRefs,
  readCommit,
  readObject,
  resolveRef as readRef,
  writeRef,
  type ServerRef,
} from 'isomorphic-git';
import { writeTree, type ObjectReader, type WriteTreeStats } from './checkout.ts';
import { CheckoutFailedError, GitFetchError, MfdError, RefAmbiguousError, RefInvalidError, RefNotFoundError, worldFsError } from '../errors/index.ts';
import { listPackOids, writePack, type PackObjectType } from './pack.ts';
import { damagedPacks } from './packcheck.ts';
import { parseTree } from './treecheck.ts';
import { pauseForTest } from '../sys/testhook.ts';
import { writeFileAtomic } from '../state/atomicfile.ts';
import { fullSha, generationsOf, parseRevision, type RevisionStep } from './revision.ts';
import { authCallbacks, connect, toGitError, type Connection, type RepoRemote } from './transport.ts';

export { redactUrl, type RepoAuth, type RepoRemote } from './transport.ts';

/** Runs a write to the cache holding the cache lock (lock/policy.ts withCacheLock); by default, unlocked. */
export type CacheLock = <T>(work: () => Promise<T>) => Promise<T>;
const unlocked: CacheLock = (work) => work();

export interface ResolvedRef {
  sha: string;
  /** What was resolved: the full ref name (`refs/heads/main`) for names and HEAD, else the input. */
  ref: string;
}

/**
 * isomorphic-git's object cache: the pack indexes and packs it has loaded. Pass one to fetchCommit
 * and then checkoutCommit so the packs are read and indexed once per deploy, not once per step.
 */
export type Cache = object;

export function newCache(): Cache {
  return {};
}

const SHORT_SHA = /^[0-9a-f]{4,39}$/i;
const REMOTE = 'origin';
/** Local ref at the last fetched commit: iso-git sends "have" lines only for the ref it fetches into. */
const LAST_FETCHED = 'mfd-last-fetched';
/** Depths tried, in turn, to find a short sha in history; the last is git's "unshallow". */
const DEEPEN_STEPS = [1, 64, 4096, 0x7fffffff];
/** git's (and go-git's) order for turning a name into a ref. */
const REV_RULES = ['%s', 'refs/%s', 'refs/tags/%s', 'refs/heads/%s', 'refs/remotes/%s', 'refs/remotes/%s/HEAD'];

/**
 * node:fs as isomorphic-git gets it. iso-git wraps the fs it is given on every API call, probing
 * it twice by calling readFile() with no arguments; node's readFile rejects that with an error
 * whose stack trace costs more than many reads (measured: 400 readBlob calls 20-35% faster).
 * The probe is answered at once here; every real call goes to node's fs.promises.
 */
const fs = {
  promises: {
    ...fsp,
    readFile: ((...args: unknown[]) =>
      args.length === 0 ? Promise.resolve() : (fsp.readFile as (...a: unknown[]) => Promise<unknown>)(...args)) as typeof fsp.readFile,
  },
};

/** Runs network work for `conn`, turning whatever it throws into mfd's errors. */
async function guard<T>(conn: Connection, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toGitError(error, conn.url);
  }
}

/**
 * REF → commit sha. Names and HEAD cost one ref advertisement and no clone; a full sha costs
 * nothing; a short sha or a ~N / ^N suffix fetch into `gitdir` only as much history as they need.
 */
export async function resolveRef(options: {
  remote: RepoRemote;
  gitdir: string;
  ref?: string;
  branch?: string;
  /** Held while a short sha or REF~N makes the resolve fetch history into the cache. */
  lock?: CacheLock;
}): Promise<ResolvedRef> {
  const lock = options.lock ?? unlocked;
  const conn = connect(options.remote);
  // A configured branch is a branch, never a tag of the same name.
  const branch = options.branch && !options.branch.startsWith('refs/') ? `refs/heads/${options.branch}` : options.branch;
  const wanted = options.ref ?? branch ?? 'HEAD';
  return guard(conn, async () => {
    const sha = fullSha(wanted);
    if (sha) return { sha, ref: wanted };
    const parsed = parseRevision(wanted);
    if (!parsed.ok) throw new RefInvalidError(wanted, parsed.reason);
    const { base, steps } = parsed.revision;
    const cache: Cache = {};
    const baseSha = fullSha(base);
    const resolved = baseSha ? { sha: baseSha, ref: base } : await resolveName(conn, options.gitdir, base, cache, lock);
    if (steps.length === 0) return resolved;
    return { sha: await lock(() => walkRevision(conn, options.gitdir, resolved.sha, steps, wanted, cache)), ref: wanted };
  });
}

async function resolveName(conn: Connection, gitdir: string, name: string, cache: Cache, lock: CacheLock): Promise<ResolvedRef> {
  // ls-refs takes one prefix; a bare name may be a tag or a branch, so those list everything.
  const prefix = name === 'HEAD' || name.startsWith('refs/') ? name : undefined;
  const refs = await listServerRefs({
    http: conn.http, url: conn.url, ...authCallbacks(conn),
    protocolVersion: 2, symrefs: true, peelTags: true, ...(prefix ? { prefix } : {}),
  });
  const byName = new Map(refs.map((r) => [r.ref, r]));
  for (const rule of REV_RULES) {
    const hit = byName.get(rule.replace('%s', name));
    if (hit) return { sha: hit.peeled ?? hit.oid, ref: hit.target ?? hit.ref };
  }
  if (SHORT_SHA.test(name)) return { sha: await lock(() => resolveShortSha(conn, gitdir, name.toLowerCase(), refs, cache)), ref: name };
  const detail = name === 'HEAD' ? 'the remote has no default branch' : '';
  throw new RefNotFoundError(name, conn.url, detail);
}

/** Git's own rule: match the prefix against the local repository, here after fetching branches and tags. */
async function resolveShortSha(conn: Connection, gitdir: string, prefix: string, refs: ServerRef[], cache: Cache): Promise<string> {
  const anyTip = refs.find((r) => r.ref.startsWith('refs/heads/') || r.ref.startsWith('refs/tags/'));
  if (!anyTip) throw new RefNotFoundError(prefix, conn.url, 'the remote has no branches or tags');
  await removeDamagedPacks(gitdir);
  await openCache(conn, gitdir, cache);
  for (const depth of DEEPEN_STEPS) {
    await fetchPack({
      fs, http: conn.http, cache, gitdir, url: conn.url, ...authCallbacks(conn),
      // remoteRef only has to exist on the server; every branch and tag is wanted.
      ref: LAST_FETCHED, remoteRef: anyTip.oid, singleBranch: false, tags: true, depth,
    });
    const commits = await commitsWithPrefix(gitdir, prefix, cache);
    if (commits.length === 1) return commits[0]!;
    if (commits.length > 1) throw new RefAmbiguousError(prefix, commits.sort());
    if (!(await isShallow(gitdir))) break;
  }
  throw new RefNotFoundError(prefix, conn.url, 'no commit of its branches or tags starts with it');
}

async function commitsWithPrefix(gitdir: string, prefix: string, cache: Cache): Promise<string[]> {
  let oids: string[];
  try {
    oids = [await expandOid({ fs, gitdir, oid: prefix, cache })];
  } catch (error) {
    const { code, data } = error as { code?: string; data?: { matches?: string[] } };
    if (code === 'NotFoundError') return [];
    if (code !== 'AmbiguousError') throw error;
    oids = data?.matches ?? [];
  }
  const commits: string[] = [];
  for (const oid of oids) {
    const { type } = await readObject({ fs, gitdir, oid, cache, format: 'content' });
    if (type === 'commit') commits.push(oid);
  }
  return commits;
}

async function walkRevision(conn: Connection, gitdir: string, base: string, steps: RevisionStep[], wanted: string, cache: Cache): Promise<string> {
  // Usually one fetch at the exact depth is enough; merges can hide a commit deeper, so double then.
  let depth = generationsOf(steps) + 1;
  let lastMissing: string | undefined;
  let stalled = 0;
  await removeDamagedPacks(gitdir);
  for (;;) {
    const outcome = await walkLocal(gitdir, base, steps, cache);
    if ('sha' in outcome) return outcome.sha;
    if ('end' in outcome) throw new RefNotFoundError(wanted, conn.url, outcome.end);
    if (outcome.missing === lastMissing) {
      if (++stalled > 3) throw new GitFetchError(conn.url, `the server sent no commit ${outcome.missing} (deepened ${base} to ${depth})`);
      depth *= 2;
    }
    lastMissing = outcome.missing;
    await fetchInto(conn, gitdir, base, depth, cache);
  }
}

type WalkOutcome = { sha: string } | { missing: string } | { end: string };

async function walkLocal(gitdir: string, start: string, steps: RevisionStep[], cache: Cache): Promise<WalkOutcome> {
  let sha = start;
  const parentsOf = async (oid: string) => (await readCommit({ fs, gitdir, oid, cache })).commit.parent;
  for (const step of steps) {
    const count = step.kind === 'ancestor' ? step.n : Math.min(step.n, 1);
    const index = step.kind === 'ancestor' ? 0 : step.n - 1;
    for (let i = 0; i < count; i++) {
      if (!(await hasCommit(gitdir, sha, cache))) return { missing: sha };
      const parents = await parentsOf(sha);
      const next = parents[index];
      if (!next) return { end: `${sha} has ${parents.length} parent(s)` };
      sha = next;
    }
  }
  if (!(await hasCommit(gitdir, sha, cache))) return { missing: sha };
  return { sha };
}

/** Whether `gitdir` holds commit `sha` (the cache may not exist yet). */
export async function hasCommit(gitdir: string, sha: string, cache: Cache = {}): Promise<boolean> {
  try {
    await readCommit({ fs, gitdir, oid: sha, cache });
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'NotFoundError' || code === 'ObjectTypeError') return false;
    throw error;
  }
}

async function isShallow(gitdir: string): Promise<boolean> {
  try {
    return (await readFile(join(gitdir, 'shallow'), 'utf8')).trim() !== '';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Ensures commit `sha` and its tree are in the cached bare repository `gitdir`, creating it if
 * needed. No network call when the commit is already there; otherwise a depth-1 fetch that,
 * thanks to the LAST_FETCHED ref, transfers only objects the cache lacks.
 */
export async function fetchCommit(options: {
  remote: RepoRemote;
  gitdir: string;
  sha: string;
  cache?: Cache;
  /** Held while the fetch and any compaction write the cache. */
  lock?: CacheLock;
}): Promise<{ fetched: boolean; /** Damaged packs removed first (see repairPacks). */ repaired: number }> {
  const conn = connect(options.remote);
  const cache = options.cache ?? newCache();
  const lock = options.lock ?? unlocked;
  return guard(conn, async () => {
    const repaired = await repairPacks(options.gitdir, lock);
    if (await hasCommit(options.gitdir, options.sha, cache)) return { fetched: false, repaired };
    return lock(async () => {
      // Whoever held the lock before may have fetched it.
      if (await hasCommit(options.gitdir, options.sha, cache)) return { fetched: false, repaired };
      await fetchInto(conn, options.gitdir, options.sha, 1, cache);
      // Only here, after the depth-1 fetch of a deploy: a revision walk deepening the cache needs
      // the history it just fetched.
      await compactCache(options.gitdir);
      return { fetched: true, repaired };
    });
  });
}

/**
 * Removes the packs a crash left damaged (packcheck.ts), so the cache reads again; what they held
 * is fetched again when needed. Looking is read-only; the removal waits for the cache lock, and
 * looks again under it, as a pack another run is still writing looks damaged too. Returns how many
 * packs went.
 */
async function repairPacks(gitdir: string, lock: CacheLock): Promise<number> {
  if ((await damagedPacks(join(gitdir, 'objects', 'pack'))).length === 0) return 0;
  return lock(() => removeDamagedPacks(gitdir));
}

/** The removal of repairPacks, for callers that already hold the cache lock. */
async function removeDamagedPacks(gitdir: string): Promise<number> {
  const packDir = join(gitdir, 'objects', 'pack');
  const damaged = await damagedPacks(packDir);
  for (const pack of damaged) {
    await rm(join(packDir, pack.replace(/\.pack$/, '.idx')), { force: true });
    await rm(join(packDir, pack), { force: true });
  }
  return damaged.length;
}

/** Marker of a thin fetch under way: the packs that existed before it, all self-contained. */
const THIN_MARKER = 'mfd-thin-fetch.json';

async function fetchInto(conn: Connection, gitdir: string, sha: string, depth: number, cache: Cache): Promise<void> {
  await openCache(conn, gitdir, cache);
  // Only a depth-1 fetch that can send a "have" gains from a thin pack; deepening does not.
  const last = await readRef({ fs, gitdir, ref: LAST_FETCHED }).catch(() => undefined);
  const thin = depth === 1 && last !== undefined && (await hasCommit(gitdir, last, cache));
  if (thin) await writeFile(join(gitdir, THIN_MARKER), JSON.stringify(await readdir(join(gitdir, 'objects', 'pack'))));
  try {
    await fetchPack({
      fs, http: thin ? conn.thinHttp : conn.http, cache, gitdir, url: conn.url, ...authCallbacks(conn),
      ref: LAST_FETCHED, remoteRef: sha, singleBranch: true, tags: false, depth,
    });
  } finally {
    if (thin) await fattenNewPacks(gitdir, cache);
  }
  // upload-pack answers a want it has not got with an ERR line that iso-git does not surface.
  if (!(await hasCommit(gitdir, sha, cache))) throw new RefNotFoundError(sha, conn.url, 'the server sent no such commit');
  await writeRef({ fs, gitdir, ref: `refs/heads/${LAST_FETCHED}`, value: sha, force: true });
}

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
async function compactCache(gitdir: string): Promise<void> {
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
  await writeFile(join(packDir, name), data);
  await indexPack({ fs, dir: gitdir, gitdir, filepath: join('objects', 'pack', name), cache });
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

/**
 * Rewrites the packs a thin fetch added (those THIN_MARKER does not list) as self-contained ones,
 * as `git index-pack --fix-thin` does, then drops the marker. iso-git looks a delta's base up in
 * every pack, so two thin packs holding one object as deltas in opposite directions would send a
 * read round in circles forever; with at most one thin pack, and only during a fetch, never.
 */
async function fattenNewPacks(gitdir: string, cache: Cache): Promise<void> {
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

/**
 * Creates the bare cache on first use and repairs what a killed thin fetch left; the remote's URL
 * in its config never holds credentials.
 */
async function openCache(conn: Connection, gitdir: string, cache: Cache): Promise<void> {
  if (!existsSync(join(gitdir, 'HEAD'))) {
    await mkdir(gitdir, { recursive: true });
    await init({ fs, gitdir, bare: true, defaultBranch: LAST_FETCHED });
  }
  await fattenNewPacks(gitdir, cache);
  const current = (await getConfig({ fs, gitdir, path: `remote.${REMOTE}.url` })) as string | undefined;
  if (current !== conn.url) await addRemote({ fs, gitdir, remote: REMOTE, url: conn.url, force: true });
}

/**
 * Writes the tree of commit `sha` into `dir` (which must exist and be empty): exec bits and
 * symlinks kept, submodules as empty directories; TreeInvalidError for a tree git's fsck refuses.
 * Our own walk rather than iso-git's checkout, which would write an index and HEAD into the
 * shared cache and stat a work tree we know is empty.
 */
export async function checkoutCommit(options: {
  gitdir: string;
  sha: string;
  dir: string;
  cache?: Cache;
  /** An earlier deployment to take unchanged files from (see writeTree). */
  reuseFrom?: string;
}): Promise<WriteTreeStats> {
  const { gitdir, sha, dir } = options;
  const cache = options.cache ?? newCache();
  // Raw objects: iso-git's readTree sorts entries, decodes names lossily and throws on odd modes,
  // which would hide what treecheck.ts must see.
  const reader: ObjectReader = {
    readObject: async (oid) => {
      const { type, object } = await readObject({ fs, gitdir, oid, cache, format: 'content' });
      return { type, content: object as Uint8Array };
    },
  };
  try {
    const tree = (await readCommit({ fs, gitdir, oid: sha, cache })).commit.tree;
    return await writeTree(reader, tree, dir, { commit: sha, ...(options.reuseFrom === undefined ? {} : { reuseFrom: options.reuseFrom }) });
  } catch (error) {
    if (error instanceof MfdError) throw error;
    throw worldFsError(error) ?? new CheckoutFailedError(sha, dir, (error as Error).message, error);
  }
}
