// A commit's tree written out of the cache into a new deployment directory, with no .git: the
// objects read straight from the packs (pack-read.ts), the walk and every check from checkout.ts.
import { readObject } from 'isomorphic-git';
import { CheckoutFailedError, GitCacheError, MfdError, worldFsError } from '../errors/index.ts';
import { writeTree, type ObjectReader, type WriteTreeStats } from './checkout.ts';
import { markIncomplete } from './cache.ts';
import { fs, newCache, type Cache } from './iso.ts';
import { PackProblem } from './pack-format.ts';
import { PackStore } from './pack-read.ts';

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
  let store: PackStore | undefined;
  try {
    store = new PackStore(gitdir);
    const packs = store;
    // Raw objects, as stored: treecheck.ts must see a tree's bytes. The cache holds packs only; a
    // loose object (none that mfd writes) is read through iso-git.
    const reader: ObjectReader = {
      readObject: async (oid) => {
        const stored = packs.read(oid);
        if (stored) return stored;
        const { type, object } = await readObject({ fs, gitdir, oid, cache, format: 'content' });
        return { type, content: object as Uint8Array };
      },
      // A large blob goes from the pack to its file in pieces (pack-read.ts checks its id).
      streamObject: (oid, minSize) => packs.stream(oid, minSize),
    };
    const commit = await reader.readObject(sha);
    const tree = commit.type === 'commit' ? /^tree ([0-9a-f]{40})\n/.exec(Buffer.from(commit.content).toString('latin1', 0, 46))?.[1] : undefined;
    if (!tree) throw new CheckoutFailedError(sha, dir, commit.type === 'commit' ? 'the commit names no tree' : `${sha} is a ${commit.type}, not a commit`);
    return await writeTree(reader, tree, dir, { commit: sha, ...(options.reuseFrom === undefined ? {} : { reuseFrom: options.reuseFrom }) });
  } catch (error) {
    if (error instanceof MfdError) throw error;
    if (error instanceof PackProblem) throw new GitCacheError(error.message, error);
    const { code, data } = error as { code?: string; data?: { what?: string } };
    if (code === 'NotFoundError') {
      // An object of a commit the cache holds is not there: the pack it came in was incomplete.
      const missing = data?.what ?? 'an object';
      markIncomplete(gitdir, missing);
      throw new CheckoutFailedError(sha, dir, `${missing} of its tree is missing from the cache (the server sent an incomplete pack); the next deploy fetches it anew`, error);
    }
    throw worldFsError(error) ?? new CheckoutFailedError(sha, dir, (error as Error).message, error);
  } finally {
    store?.close();
  }
}
