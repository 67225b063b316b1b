// Writes a git tree into a new, empty directory: files with their exec bit, symlinks as symlinks,
// submodules as empty directories. Every tree is checked against git fsck's rules (treecheck.ts) before the first
// write, and every write creates a new path and never follows a link, so no tree can redirect one.
// A file whose bytes already sit at the same path of an earlier checkout (the active deployment),
// verified by its git blob id, is taken from there: hashing a file costs a fraction of inflating
// it out of a pack, and between two deploys most files do not change.
// Files are read and written with synchronous calls: hundreds of small files through the promise
// API queue on libuv's four threads and cost several times more (measured: ~200 ms against ~40 ms
// for 400 files), and a deploy has nothing else to do meanwhile.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { TreeInvalidError } from '../errors/tree.ts';
import { parseTree, type TreeEntry } from './treecheck.ts';
import { toFsError } from '../errors/fs.ts';
import { pauseForTest } from '../sys/testhook.ts';

export interface ObjectReader {
  /** The type and content of object `oid` (content without git's header). */
  readObject(oid: string): Promise<{ type: string; content: Uint8Array }>;
  /**
   * Object `oid` as a stream when the store holds it whole and it has at least `minSize` bytes,
   * else undefined. `pipe` resolves only once the bytes piped hash to `oid`.
   */
  streamObject?(oid: string, minSize: number): { type: string; pipe(sink: (piece: Buffer) => void): Promise<void> } | undefined;
}

export interface WriteTreeOptions {
  /** An earlier checkout to take unchanged files from; each is used only if its bytes hash to the entry's blob id. */
  reuseFrom?: string;
  /** The commit the tree belongs to, named in errors (default: the tree's id). */
  commit?: string;
}

export interface WriteTreeStats {
  /** Regular files and symlinks written. */
  files: number;
  /** Files taken from `reuseFrom` instead of the object store. */
  reused: number;
  /** Paths of submodules, deployed as empty directories (their contents live in another repository). */
  submodules: string[];
  /** Paths of files that are Git LFS pointers: deployed as the pointer, not the large file. */
  lfsPointers: string[];
}

/** Larger files are always read from the object store: a mismatch would waste the whole read. */
const REUSE_MAX_BYTES = 64 * 1024 ** 2;
/** Larger blobs are inflated straight into their file, never held whole (and are never LFS pointers). */
const STREAM_MIN_BYTES = 8 * 1024 ** 2;
/** Git LFS pointer files start so and are smaller than 1024 bytes (the LFS spec). */
const LFS_POINTER = Buffer.from('version https://git-lfs.github.com/spec/v1');
/** A new file, never an existing path, never through a final symlink (O_EXCL refuses one as well). */
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const SLASH = Buffer.from('/');

/**
 * The event loop gets a turn every so many files. The reads and writes here settle as microtasks
 * (the pack is read, and small files written, synchronously), so without a turn a tree of 20,000
 * files held the loop for seconds: no timer fired (the deploy lock's heartbeat, which another host
 * judges the lock by), no signal was handled, `mfd serve` answered nothing.
 */
const FILES_PER_TURN = 256;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Planned {
  /** Path relative to the checkout, as raw bytes: git names are bytes and need not be UTF-8. */
  rel: Buffer;
  entry: TreeEntry;
}

/**
 * Writes tree `treeOid` into `dir`, which must exist and be empty. Throws TreeInvalidError, having
 * written nothing, when any tree breaks git's fsck rules.
 */
export async function writeTree(reader: ObjectReader, treeOid: string, dir: string, options: WriteTreeOptions = {}): Promise<WriteTreeStats> {
  if (readdirSync(dir).length > 0) throw new Error(`${dir} is not empty`);
  const plan = await planTree(reader, treeOid, options.commit ?? treeOid);
  const root = Buffer.from(dir);
  const at = (rel: Buffer) => Buffer.concat([root, SLASH, rel]);
  // Order is the defence in depth: every directory exists before any file, and no symlink exists
  // until every directory and file is written. So no path component of a write can be a link,
  // even if a tree trick got past planTree; and each create fails on any existing path.
  // Every link's target is read and checked first: one no file system can hold is the tree's fault, found before anything is written.
  const targets = new Map<Planned, Uint8Array>();
  await runPool(plan.links, 16, async (link) => {
    targets.set(link, linkTarget(await readBlob(reader, link.entry.oid, link.rel, options.commit ?? treeOid), link.rel, options.commit ?? treeOid));
  });
  for (const rel of plan.dirs) mkdirSync(at(rel));
  const reuseFrom = options.reuseFrom === undefined ? undefined : Buffer.from(options.reuseFrom);
  const lfsPointers: string[] = [];
  let reused = 0;
  let written = 0;
  let pause: Promise<void> | undefined;
  await runPool(plan.files, 16, async ({ rel, entry }) => {
    // Crash tests kill mfd here, with half the tree written.
    if (written++ === Math.floor(plan.files.length / 2)) await pauseForTest('checkout-partial');
    // Every worker of the pool waits for the turn: one alone would leave the others' microtasks running.
    if (written % FILES_PER_TURN === 0) pause = turn().finally(() => (pause = undefined));
    if (pause) await pause;
    const earlier = reuseFrom === undefined ? undefined : readIfBlob(Buffer.concat([reuseFrom, SLASH, rel]), entry.oid);
    if (earlier) reused++;
    const streamed = earlier ? undefined : reader.streamObject?.(entry.oid, STREAM_MIN_BYTES);
    if (streamed) {
      if (streamed.type !== 'blob') throw new TreeInvalidError(options.commit ?? treeOid, rel.toString('utf8'), 'wrongType', `blob ${entry.oid} is a ${streamed.type}`);
      await writeStreamed(at(rel), streamed.pipe, entry.kind === 'exec' ? 0o755 : 0o644);
      return;
    }
    const content = earlier ?? (await readBlob(reader, entry.oid, rel, options.commit ?? treeOid));
    if (isLfsPointer(content)) lfsPointers.push(rel.toString('utf8'));
    writeNew(at(rel), content, entry.kind === 'exec' ? 0o755 : 0o644);
  });
  // A link may point anywhere, as git allows; nothing is ever written through one.
  for (const link of plan.links) symlinkSync(Buffer.from(targets.get(link)!), at(link.rel));
  return { files: plan.files.length + plan.links.length, reused, submodules: plan.submodules, lfsPointers: lfsPointers.sort() };
}

/** Every tree read and checked, nothing written: the directories (parents first), files, links and submodules. */
async function planTree(reader: ObjectReader, treeOid: string, commit: string) {
  const plan = { dirs: [] as Buffer[], files: [] as Planned[], links: [] as Planned[], submodules: [] as string[] };
  let trees = 0;
  const visit = async (oid: string, rel: Buffer): Promise<void> => {
    if (++trees % FILES_PER_TURN === 0) await turn();
    const { type, content } = await reader.readObject(oid);
    const where = rel.toString('utf8');
    if (type !== 'tree') throw new TreeInvalidError(commit, where, 'wrongType', `tree ${oid} is a ${type}`);
    const parsed = parseTree(content);
    if (!parsed.ok) {
      const { rule, name, detail } = parsed.problem;
      throw new TreeInvalidError(commit, name === '' ? where : where === '' ? name : `${where}/${name}`, rule, detail);
    }
    for (const entry of parsed.entries) {
      const path = rel.length === 0 ? entry.name : Buffer.concat([rel, SLASH, entry.name]);
      if (entry.kind === 'tree') {
        plan.dirs.push(path);
        await visit(entry.oid, path);
      } else if (entry.kind === 'symlink') plan.links.push({ rel: path, entry });
      else if (entry.kind === 'submodule') {
        // An empty directory, as git's checkout and `git archive` leave for a submodule.
        plan.dirs.push(path);
        plan.submodules.push(path.toString('utf8'));
      }
      else plan.files.push({ rel: path, entry });
    }
  };
  await visit(treeOid, Buffer.alloc(0));
  return plan;
}

async function readBlob(reader: ObjectReader, oid: string, rel: Buffer, commit: string): Promise<Uint8Array> {
  const { type, content } = await reader.readObject(oid);
  if (type !== 'blob') throw new TreeInvalidError(commit, rel.toString('utf8'), 'wrongType', `blob ${oid} is a ${type}`);
  return content;
}

/** Linux's PATH_MAX, its NUL included: a longer link target cannot be created. */
const MAX_TARGET = 4095;

function linkTarget(target: Uint8Array, rel: Buffer, commit: string): Uint8Array {
  const path = rel.toString('utf8');
  if (target.length === 0) throw new TreeInvalidError(commit, path, 'badSymlinkTarget', 'the link has an empty target, which no file system can store');
  if (target.includes(0)) throw new TreeInvalidError(commit, path, 'badSymlinkTarget', 'the link\'s target holds a NUL byte, which no file system can store');
  if (target.length > MAX_TARGET) throw new TreeInvalidError(commit, path, 'symlinkTargetLength', `the link's target is ${target.length} bytes, longer than a path may be (${MAX_TARGET})`);
  return target;
}

function writeNew(path: Buffer, content: Uint8Array, mode: number): void {
  const fd = openSync(path, CREATE_FLAGS, mode);
  try {
    let done = 0;
    while (done < content.length) done += writeSync(fd, content, done);
  } catch (error) {
    // write(2) names no path; a full disk must say which file it refused.
    throw toFsError(error, { path: path.toString('utf8'), op: 'write' }) ?? error;
  } finally {
    closeSync(fd);
  }
}

/**
 * A large blob written as it inflates: under a new temp name beside `path`, linked to `path` only
 * once `pipe` has checked its id, so a damaged pack never leaves a wrong file there. link(2)
 * refuses an existing path and never follows a link, as writeNew's flags do.
 */
async function writeStreamed(path: Buffer, pipe: (sink: (piece: Buffer) => void) => Promise<void>, mode: number): Promise<void> {
  const temp = Buffer.concat([path.subarray(0, path.lastIndexOf(SLASH) + 1), Buffer.from(`.mfd-partial-${randomBytes(8).toString('hex')}`)]);
  const fd = openSync(temp, CREATE_FLAGS, mode);
  try {
    try {
      await pipe((piece) => {
        let done = 0;
        while (done < piece.length) done += writeSync(fd, piece, done);
      });
    } catch (error) {
      throw toFsError(error, { path: path.toString('utf8'), op: 'write' }) ?? error;
    } finally {
      closeSync(fd);
    }
    linkSync(temp, path);
  } finally {
    // Our own temp name, made above: the file stays only under `path`, or not at all.
    unlinkSync(temp);
  }
}

function isLfsPointer(content: Uint8Array): boolean {
  return content.length < 1024 && Buffer.from(content.buffer, content.byteOffset, content.byteLength).subarray(0, LFS_POINTER.length).equals(LFS_POINTER);
}

/** git's id of a blob with these bytes (SHA-1 of "blob <size>\0" and the bytes). */
export function blobId(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

/**
 * The bytes of the regular file at `path` if they are exactly blob `oid`, else undefined. Never
 * follows a final symlink and never blocks on a FIFO or device a build may have left there.
 * A directory above it may be a link a build or the app planted (the active deployment is theirs),
 * so this may read a file outside it: harmless, as its bytes are used only when they hash to the
 * blob id, i.e. when they are exactly what the repository would have given.
 */
function readIfBlob(path: Buffer, oid: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    // Missing, a link, or unreadable: the object store has the blob.
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > REUSE_MAX_BYTES) return undefined;
    const content = readFileSync(fd);
    return blobId(content) === oid ? content : undefined;
  } catch {
    // A read that fails is a file not reused: the object store has the blob.
    return undefined;
  } finally {
    closeSync(fd);
  }
}

async function runPool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}
