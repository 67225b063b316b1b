// What every isomorphic-git caller in git/ shares: node:fs as iso-git gets it, the object cache
// passed from step to step, the cache lock as a function, and the local ref of the last fetch.
import { promises as fsp } from 'node:fs';
import { readCommit } from 'isomorphic-git';
import { PackStore } from './pack-read.ts';
import { toGitError, type Connection } from './transport.ts';

/** Runs a write to the cache holding the cache lock (lock/policy.ts withCacheLock); by default, unlocked. */
export type CacheLock = <T>(work: () => Promise<T>) => Promise<T>;
export const unlocked: CacheLock = (work) => work();

/**
 * isomorphic-git's object cache: the pack indexes and packs it has loaded. Pass one to fetchCommit
 * and then checkoutCommit so the packs are read and indexed once per deploy, not once per step.
 */
export type Cache = object;

export function newCache(): Cache {
  return {};
}

export const REMOTE = 'origin';
/** Local ref at the last fetched commit: iso-git sends "have" lines only for the ref it fetches into. */
export const LAST_FETCHED = 'mfd-last-fetched';

/**
 * node:fs as isomorphic-git gets it. iso-git wraps the fs it is given on every API call, probing
 * it twice by calling readFile() with no arguments; node's readFile rejects that with an error
 * whose stack trace costs more than many reads (measured: 400 readBlob calls 20-35% faster).
 * The probe is answered at once here; every real call goes to node's fs.promises.
 */
export const fs = {
  promises: {
    ...fsp,
    readFile: ((...args: unknown[]) =>
      args.length === 0 ? Promise.resolve() : (fsp.readFile as (...a: unknown[]) => Promise<unknown>)(...args)) as typeof fsp.readFile,
  },
};

/** Runs network work for `conn`, turning whatever it throws into mfd's errors. */
export async function guard<T>(conn: Connection, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toGitError(error, conn.url);
  }
}

/** Whether `gitdir` holds commit `sha` (the cache may not exist yet); a loose one through iso-git. */
export async function hasCommit(gitdir: string, sha: string, cache: Cache = {}): Promise<boolean> {
  // The packs through their indexes (pack-read.ts): iso-git would load a whole pack to answer.
  const store = new PackStore(gitdir);
  try {
    const found = store.read(sha);
    if (found) return found.type === 'commit';
  } finally {
    store.close();
  }
  try {
    await readCommit({ fs, gitdir, oid: sha, cache });
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'NotFoundError' || code === 'ObjectTypeError') return false;
    throw error;
  }
}
