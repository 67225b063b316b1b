// REF → commit sha. Names and HEAD through one ref advertisement and no clone; a short sha or a
// ~N / ^N suffix by fetching into the cache only as much history as it needs, as git would.
import { expandOid, listServerRefs, readCommit, readObject, type ServerRef } from 'isomorphic-git';
import { GitFetchError, RefAmbiguousError, RefInvalidError, RefNotFoundError } from '../errors/index.ts';
import { isShallow, openCache, removeDamagedPacks } from './cache.ts';
import { withRefPrefixes } from './discovery.ts';
import { listingOf, REV_RULES, SHORT_SHA } from './listing.ts';
import { startListing } from './prefetch.ts';
import { fetchInto, fetchReceived, removeKilledWrites } from './fetch.ts';
import { fs, guard, hasCommit, unlocked, type Cache, type CacheLock } from './iso.ts';
import { fullSha, generationsOf, parseRevision, type RevisionStep } from './revision.ts';
import { authCallbacks, connectionOf, type Connection, type RemoteOrConnection } from './transport.ts';

export interface ResolvedRef {
  sha: string;
  /** What was resolved: the full ref name (`refs/heads/main`) for names and HEAD, else the input. */
  ref: string;
}

/** Depths tried, in turn, to find a short sha in history; the last is git's "unshallow". */
const DEEPEN_STEPS = [1, 64, 4096, 0x7fffffff];

/**
 * REF → commit sha. Names and HEAD cost one ref advertisement and no clone; a full sha costs
 * nothing; a short sha or a ~N / ^N suffix fetch into `gitdir` only as much history as they need.
 */
export async function resolveRef(options: RemoteOrConnection & {
  gitdir: string;
  ref?: string;
  branch?: string;
  /** Held while a short sha or REF~N makes the resolve fetch history into the cache. */
  lock?: CacheLock;
}): Promise<ResolvedRef> {
  const lock = options.lock ?? unlocked;
  const conn = connectionOf(options);
  // A configured branch is a branch, never a tag of the same name.
  const branch = options.branch && !options.branch.startsWith('refs/') ? `refs/heads/${options.branch}` : options.branch;
  const wanted = options.ref ?? branch ?? 'HEAD';
  // A connection opened here (a poll of watch or serve) sends its ls-refs with the capabilities,
  // as `mfd resolve` and a deploy do with theirs (prefetch.ts): a round trip less.
  const own = options.conn === undefined && startListing(conn, wanted);
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
  }).finally(() => {
    if (own) conn.discard();
  });
}

async function resolveName(conn: Connection, gitdir: string, name: string, cache: Cache, lock: CacheLock): Promise<ResolvedRef> {
  // iso-git's ls-refs takes one prefix; a bare name may be any of git's six, which the request
  // gets as ref-prefix lines of its own (discovery.ts). A short sha needs every branch and tag.
  const { prefix, prefixes } = listingOf(name);
  const http = prefixes.length > 0 ? withRefPrefixes(conn.http, prefixes) : conn.http;
  const refs = await listServerRefs({
    http, url: conn.url, ...authCallbacks(conn),
    protocolVersion: 2, symrefs: true, peelTags: true, ...(prefix ? { prefix } : {}),
  });
  const byName = new Map(refs.map((r) => [r.ref, r]));
  for (const rule of REV_RULES) {
    const hit = byName.get(rule.replace('%s', name));
    if (hit) return { sha: hit.peeled ?? hit.oid, ref: hit.target ?? hit.ref };
  }
  if (SHORT_SHA.test(name)) return { sha: await lock(() => resolveShortSha(conn, gitdir, name.toLowerCase(), refs, cache)), ref: name };
  if (name !== 'HEAD') throw new RefNotFoundError(name, conn.url);
  // A server repository made by `git init --bare` points HEAD at master; if only main was pushed, HEAD names nothing.
  throw new RefNotFoundError(name, conn.url, 'the remote has no default branch (its HEAD names a branch that does not exist)',
    'name the branch in mfd.toml ([repo] branch = "main"), or point the server repository\'s HEAD at one: git symbolic-ref HEAD refs/heads/main');
}

/** Git's own rule: match the prefix against the local repository, here after fetching branches and tags. */
async function resolveShortSha(conn: Connection, gitdir: string, prefix: string, refs: ServerRef[], cache: Cache): Promise<string> {
  const anyTip = refs.find((r) => r.ref.startsWith('refs/heads/') || r.ref.startsWith('refs/tags/'));
  if (!anyTip) throw new RefNotFoundError(prefix, conn.url, 'the remote has no branches or tags');
  await removeDamagedPacks(gitdir);
  // A resolve killed mid-pack left its temp file: else it stays until a deploy fetches.
  await removeKilledWrites(gitdir);
  await openCache(conn, gitdir);
  for (const depth of DEEPEN_STEPS) {
    // remoteRef only has to exist on the server; every branch and tag is wanted (hence conn.http,
    // the whole advertisement). The pack goes to disk as it comes, as a deploy's does.
    await fetchReceived(conn, gitdir, conn.http, { remoteRef: anyTip.oid, singleBranch: false, tags: true, depth });
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
  await removeKilledWrites(gitdir);
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
