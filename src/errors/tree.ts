// The error of a commit whose tree git itself would refuse (treecheck.ts): mfd writes none of it.
import { EXIT, MfdError } from './base.ts';

/** git fsck's message ids, where one exists, so a user can look the rule up. */
export type TreeRule =
  | 'badTree'
  | 'badFilemode'
  | 'emptyName'
  | 'fullPathname'
  | 'hasDot'
  | 'hasDotdot'
  | 'hasDotgit'
  | 'nullSha1'
  | 'duplicateEntries'
  | 'treeNotSorted'
  // A symlink whose target is longer than a path may be (git 2.46's fsck).
  | 'symlinkTargetLength'
  // Not fsck message ids: fsck's connectivity check finds the first (an entry's object of another
  // type); the second is a link target no file system can store (empty, or holding a NUL byte),
  // the third a name no file system stores (over 255 bytes).
  | 'wrongType'
  | 'badSymlinkTarget'
  | 'nameTooLong';

export class TreeInvalidError extends MfdError {
  readonly code = 'TREE_INVALID';
  readonly exitCode = EXIT.git;
  constructor(
    readonly sha: string,
    /** The offending entry's path within the commit's tree ('' for the root tree itself). */
    readonly path: string,
    readonly rule: TreeRule,
    readonly detail: string,
  ) {
    const where = path === '' ? 'its root tree' : `tree entry ${JSON.stringify(path)}`;
    super(`refusing to check out ${sha}: ${where} breaks git's fsck rule ${rule}: ${detail}`, {
      hint: `run "git fsck" in a repository holding ${sha.slice(0, 12)} to see it; deploy another ref, or push a commit without that entry (active is untouched)`,
    });
  }
}
