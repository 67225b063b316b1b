// Parses raw git tree objects and holds them to git fsck's rules (fsck.c fsck_tree), so no entry
// can name a path outside its directory, a .git, or a second file at the same path. Pure: bytes in,
// entries or the first problem out. Names stay raw bytes: git allows any byte but "/" and NUL.

// The rule names belong to the error that carries them (errors/tree.ts).
import type { TreeRule } from '../errors/tree.ts';

export type { TreeRule };

export interface TreeProblem {
  rule: TreeRule;
  /** The offending entry's name as text (lossy for bytes that are not UTF-8); '' for the tree itself. */
  name: string;
  detail: string;
}

export type EntryKind = 'file' | 'exec' | 'symlink' | 'tree' | 'submodule';

export interface TreeEntry {
  /** One path component, as stored in the tree object. */
  name: Buffer;
  oid: string;
  /** The mode as stored (`100664`, `40000`, ...). */
  mode: string;
  kind: EntryKind;
}

export type ParsedTree = { ok: true; entries: TreeEntry[] } | { ok: false; problem: TreeProblem };

const SPACE = 0x20;
const NUL = 0;
const SLASH = 0x2f;
const NULL_OID = '0'.repeat(40);
/** The longest name ext4, XFS, Btrfs and tmpfs store: 255 bytes. */
const NAME_MAX = 255;

/**
 * The entries of a raw tree object, in stored order, or the first rule it breaks. Regular files of
 * any permission bits (old repositories hold 100664, 100700) are files, executable when the owner
 * may execute, as git's checkout reads them; any other mode is refused.
 */
export function parseTree(content: Uint8Array): ParsedTree {
  const buf = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const entries: TreeEntry[] = [];
  let cursor = 0;
  while (cursor < buf.length) {
    const space = buf.indexOf(SPACE, cursor);
    const nul = buf.indexOf(NUL, cursor);
    if (space === -1 || nul === -1 || nul < space || nul + 21 > buf.length) {
      return fail('badTree', '', `cannot be parsed as a tree: entry ${entries.length + 1} at byte ${cursor} is cut short`);
    }
    const mode = buf.toString('latin1', cursor, space);
    const name = buf.subarray(space + 1, nul);
    const oid = buf.toString('hex', nul + 1, nul + 21);
    cursor = nul + 21;
    const kind = kindOf(mode);
    if (kind === undefined) return fail('badFilemode', text(name), `mode ${JSON.stringify(mode)} is not one git checks out`);
    const problem = nameProblem(name);
    if (problem) return { ok: false, problem };
    if (oid === NULL_OID) return fail('nullSha1', text(name), 'the entry points to the null object id');
    entries.push({ name, oid, mode, kind });
  }
  return orderProblem(entries) ?? { ok: true, entries };
}

function kindOf(mode: string): EntryKind | undefined {
  if (mode === '40000' || mode === '040000') return 'tree'; // 040000: zero-padded, old tools wrote it
  if (mode === '120000') return 'symlink';
  if (mode === '160000') return 'submodule';
  // Any permission bits: git's checkout (canon_mode) keeps only the owner's execute bit.
  if (/^100[0-7]{3}$/.test(mode)) return (Number.parseInt(mode.slice(3), 8) & 0o100) !== 0 ? 'exec' : 'file';
  return undefined;
}

function nameProblem(name: Buffer): TreeProblem | undefined {
  if (name.length === 0) return problemOf('emptyName', name, 'an entry has an empty name');
  if (name.includes(SLASH)) return problemOf('fullPathname', name, 'a name holds "/", so it would reach into another directory');
  const s = name.toString('latin1');
  if (s === '.') return problemOf('hasDot', name, 'an entry named "." would be the directory itself');
  if (s === '..') return problemOf('hasDotdot', name, 'an entry named ".." would reach the parent directory');
  if (isDotGit(name)) return problemOf('hasDotgit', name, 'a name git reads as ".git" would plant a repository in the deployment');
  // Refused as the tree's, not met as ENAMETOOLONG mid-checkout: that reads as the app root's
  // fault (exit 4 without a mark), so the deploy loop would try the commit again at every poll.
  if (name.length > NAME_MAX) return problemOf('nameTooLong', name, `the name is ${name.length} bytes, longer than a file system stores (${NAME_MAX})`);
  return undefined;
}

/**
 * `.git` in any case, and the names Windows and macOS file systems resolve to it: NTFS's short name
 * `git~1` and trailing dots, spaces, `:stream` or `\rest` (git's is_ntfs_dotgit), and HFS+ with ignorable
 * code points in between (is_hfs_dotgit). Refused on every OS, as fsck does: a deployment may be copied.
 */
export function isDotGit(name: Buffer): boolean {
  const ntfs = /^(\.git|git~1)[. ]*([:\\].*)?$/is;
  if (ntfs.test(name.toString('latin1'))) return true;
  const hfs = name.toString('utf8').replace(/[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g, '');
  return hfs.replace(/[A-Z]/g, (c) => c.toLowerCase()) === '.git';
}

/**
 * Each name once, in git's order: bytewise, a directory compared as if its name ended in "/".
 * A file and a directory of one name sort apart ("a" < "a-b" < "a/"), so duplicates go by a set.
 */
function orderProblem(entries: readonly TreeEntry[]): ParsedTree | undefined {
  const seen = new Set<string>();
  for (const entry of entries) {
    const key = entry.name.toString('latin1');
    if (seen.has(key)) return fail('duplicateEntries', text(entry.name), 'two entries have this name (a link and a file, say), so one would be written over the other');
    seen.add(key);
  }
  for (let i = 1; i < entries.length; i++) {
    if (Buffer.compare(sortKey(entries[i - 1]!), sortKey(entries[i]!)) > 0) {
      return fail('treeNotSorted', text(entries[i]!.name), 'entries are not in the order git writes them');
    }
  }
  return undefined;
}

const sortKey = (e: TreeEntry): Buffer => (e.kind === 'tree' ? Buffer.concat([e.name, Buffer.from('/')]) : e.name);

function text(name: Buffer): string {
  return name.toString('utf8');
}

function problemOf(rule: TreeRule, name: Buffer, detail: string): TreeProblem {
  return { rule, name: text(name), detail };
}

function fail(rule: TreeRule, name: string, detail: string): ParsedTree {
  return { ok: false, problem: { rule, name, detail } };
}
