// Fetching a commit into the cached bare repository, incrementally: no network call when it is
// there, else a depth-1 fetch whose "have" (the last fetched commit) keeps the pack to what is new.
import { join } from 'node:path';
import { fetch as fetchPack, resolveRef as readRef, writeRef } from 'isomorphic-git';
import { GitRefusedError, RefNotFoundError } from '../errors/index.ts';
import { openCache, repairPacks } from './cache.ts';
import { compactCache } from './compact.ts';
import { fs, guard, hasCommit, LAST_FETCHED, newCache, unlocked, type Cache, type CacheLock } from './iso.ts';
import { PackStore } from './pack-read.ts';
import { removeLeftovers, withPackReceiver } from './pack-receive.ts';
import { updateShallow } from './shallow.ts';
import { removeTempsOf } from '../state/atomicfile.ts';
import type { GitHttpClient } from './http-client.ts';
import { authCallbacks, connectionOf, type Connection, type RemoteOrConnection } from './transport.ts';

/**
 * Ensures commit `sha` and its tree are in the cached bare repository `gitdir`, creating it if
 * needed. No network call when the commit is already there; otherwise a depth-1 fetch that,
 * thanks to the LAST_FETCHED ref, transfers only objects the cache lacks.
 */
export async function fetchCommit(options: RemoteOrConnection & {
  gitdir: string;
  sha: string;
  cache?: Cache;
  /** Held while the fetch and any compaction write the cache. */
  lock?: CacheLock;
  /**
   * Work a later step needs, run once the want list is sent: the server then builds the pack, tens
   * of milliseconds in which mfd has nothing else to do. Not run when nothing is fetched.
   */
  whilePacking?: () => void;
}): Promise<{
  fetched: boolean;
  /** Damaged packs removed first (see repairPacks). */
  repaired: number;
  /** The cache was started over: a checkout had found objects of a cached commit missing. */
  startedOver?: true;
}> {
  const conn = connectionOf(options);
  const cache = options.cache ?? newCache();
  const lock = options.lock ?? unlocked;
  return guard(conn, async () => {
    const repair = await repairPacks(options.gitdir, lock);
    const repaired = repair.damaged;
    const startedOver = repair.incomplete ? { startedOver: true as const } : {};
    if (await hasCommit(options.gitdir, options.sha, cache)) return { fetched: false, repaired, ...startedOver };
    return lock(async () => {
      // Whoever held the lock before may have fetched it.
      if (await hasCommit(options.gitdir, options.sha, cache)) return { fetched: false, repaired, ...startedOver };
      await removeKilledWrites(options.gitdir);
      await fetchInto(conn, options.gitdir, options.sha, 1, cache, options.whilePacking);
      // Only here, after the depth-1 fetch of a deploy: a revision walk deepening the cache needs
      // the history it just fetched.
      await compactCache(options.gitdir);
      return { fetched: true, repaired, ...startedOver };
    });
  });
}

/**
 * Removes what a killed fetch left in `gitdir` (a temp pack, a pack without its index, a temp
 * `shallow`). Only under the cache lock: every writer of them holds it, so none is writing.
 */
export async function removeKilledWrites(gitdir: string): Promise<void> {
  await removeLeftovers(join(gitdir, 'objects', 'pack'));
  await removeTempsOf(join(gitdir, 'shallow'));
}

/** Fetches `sha` at `depth` into the cache (created if needed); RefNotFoundError if the server has no such commit. */
export async function fetchInto(conn: Connection, gitdir: string, sha: string, depth: number, cache: Cache, whilePacking?: () => void): Promise<void> {
  await openCache(conn, gitdir);
  // Only a depth-1 fetch that can send a "have" gains from a thin pack; deepening does not.
  const last = await readRef({ fs, gitdir, ref: LAST_FETCHED }).catch(() => undefined);
  const thin = depth === 1 && last !== undefined && (await hasCommit(gitdir, last, cache));
  const http = thin ? conn.thinHttp : conn.fetchHttp;
  await fetchReceived(conn, gitdir, http, { remoteRef: sha, singleBranch: true, tags: false, depth }, whilePacking).catch((error: unknown) => {
    // Over smart HTTP upload-pack serves any commit reachable from a ref; this one is on none.
    if (error instanceof GitRefusedError && /\bnot our ref\b/.test(error.said)) {
      throw new RefNotFoundError(sha, conn.url, `the server refused it (${JSON.stringify(error.said)})`, UNREACHABLE_HINT);
    }
    throw error;
  });
  // A server that sends no commit and says nothing.
  if (!(await hasCommit(gitdir, sha, cache))) throw new RefNotFoundError(sha, conn.url, 'the server sent no such commit');
  await writeRef({ fs, gitdir, ref: `refs/heads/${LAST_FETCHED}`, value: sha, force: true });
}

/** What isomorphic-git's fetch asks for: `remoteRef` alone, or with every branch (and tag) tip. */
export interface FetchWants {
  remoteRef: string;
  singleBranch: boolean;
  tags: boolean;
  depth: number;
}

/**
 * isomorphic-git's fetch of `wants` through `http`, with the pack received, indexed and stored by
 * mfd (pack-receive.ts), a thin one with its bases appended from the cache, so no thin pack is ever
 * visible in the cache and iso-git never holds a pack in memory; then the shallow boundaries.
 */
export async function fetchReceived(conn: Connection, gitdir: string, http: GitHttpClient, wants: FetchWants, whilePacking?: () => void): Promise<void> {
  let shallowUpdate = { shallow: [] as string[], unshallow: [] as string[] };
  const store = new PackStore(gitdir);
  try {
    const receiving = withPackReceiver(http, {
      gitdir, url: conn.url,
      // Not in the cache: the pack is refused for the delta that needs it.
      readExternal: async (oid) => store.read(oid),
      onShallow: (update) => (shallowUpdate = update),
      whilePacking,
    });
    // A cache of its own, dropped on return: iso-git reads nothing here that a later step needs.
    await fetchPack({
      fs, http: receiving, cache: newCache(), gitdir, url: conn.url, ...authCallbacks(conn),
      ref: LAST_FETCHED, ...wants,
    }).catch(ignoreUnbornHead);
  } finally {
    store.close();
  }
  const after = new PackStore(gitdir);
  try {
    await updateShallow(gitdir, after, shallowUpdate);
  } finally {
    after.close();
  }
}

const UNREACHABLE_HINT = 'it is on no branch or tag of the server (deleted, or dropped by a force-push): deploy a branch or tag, e.g. mfd deploy main';

/**
 * Once the pack is in, iso-git looks up the remote's HEAD to report its default branch, and fails
 * when the advertisement has none: a remote whose HEAD names a branch never pushed (a bare
 * repository from `git init --bare` points HEAD at master; the pushes went to main). mfd wants
 * a sha, not the default branch: the check that the commit arrived (fetchInto, or the short sha's
 * search in resolve.ts) decides instead.
 */
function ignoreUnbornHead(error: unknown): void {
  const { code, data } = error as { code?: string; data?: { what?: string } };
  if (code !== 'NotFoundError' || data?.what !== 'HEAD') throw error;
}
