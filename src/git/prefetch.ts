// What a deploy or a resolve asks of the remote before isomorphic-git is even loaded (head-start.ts
// says why): the ref listing a name needs, and the fetch's ref advertisement, with a deploy's
// listing or, once the sha is known, unless the cache already holds the commit.
import { PackStore } from './pack-read.ts';
import { listingOf } from './listing.ts';
import { fullSha, parseRevision } from './revision.ts';
import type { Connection } from './transport.ts';

/**
 * Starts `conn`'s ref listing when resolving `ref` (HEAD when undefined) will list refs: not for a
 * full sha, or one with ~N. Whether it did.
 */
export function startListing(conn: Connection, ref: string | undefined): boolean {
  const parsed = parseRevision(ref ?? 'HEAD');
  // An invalid ref fails before any request: nothing to send ahead.
  if (!parsed.ok || fullSha(parsed.revision.base)) return false;
  conn.startDiscovery('list', listingOf(parsed.revision.base));
  return true;
}

/**
 * A deploy of `ref`: its listing as startListing sends it, and when there is one, the fetch's
 * advertisement beside it, since a deploy of a name mostly fetches: the server answers all three
 * at once. The advertisement's refs are filtered away (discovery.ts: the fetch wants the sha the
 * listing gave), so it cannot be stale. When the plan reuses a deployment, or the cache holds the
 * commit, it is cut at the end of the run: one advertisement the server made for nothing.
 */
export function startDeployDiscovery(conn: Connection, ref: string | undefined): void {
  if (startListing(conn, ref)) conn.startDiscovery('fetch');
}

/** Starts `conn`'s fetch discovery unless the cache's packs hold commit `sha`. */
export function startFetchDiscovery(conn: Connection, gitdir: string, sha: string): void {
  if (!cachedInPacks(gitdir, sha)) conn.startDiscovery('fetch');
}

function cachedInPacks(gitdir: string, sha: string): boolean {
  let store: PackStore | undefined;
  try {
    store = new PackStore(gitdir);
    return store.read(sha)?.type === 'commit';
  } catch {
    // A damaged pack: the fetch repairs the cache first and then most likely fetches, so ask ahead.
    return false;
  } finally {
    store?.close();
  }
}
