// A commit's tree written out of the cache into a new deployment directory, with no .git: the
// objects come from isomorphic-git, the walk and every check from checkout.ts.
import { readCommit, readObject } from 'isomorphic-git';
import { CheckoutFailedError, MfdError, worldFsError } from '../errors/index.ts';
import { writeTree, type ObjectReader, type WriteTreeStats } from './checkout.ts';
import { fs, newCache, type Cache } from './iso.ts';

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
