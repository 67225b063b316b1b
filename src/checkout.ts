// Writes a git tree into a directory: files with their exec bit, symlinks as symlinks, submodules
// skipped, nothing named .git. Objects come through the reader git.ts passes in, so it alone touches iso-git.
// A file whose bytes already sit at the same path of an earlier checkout (the active deployment),
// verified by its git blob id, is taken from there: hashing a file costs a fraction of inflating
// it out of a pack, and between two deploys most files do not change.
// Files are read and written with synchronous calls: hundreds of small files through the promise
// API queue on libuv's four threads and cost several times more (measured: ~200 ms against ~40 ms
// for 400 files), and a deploy has nothing else to do meanwhile.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { toFsError } from './fs-errors.ts';
import { pauseForTest } from './testhook.ts';

export interface TreeEntry {
  /** One path component, as stored in the tree object. */
  path: string;
  oid: string;
  mode: string;
  type: 'blob' | 'tree' | 'commit';
}

export interface ObjectReader {
  readTree(oid: string): Promise<TreeEntry[]>;
  readBlob(oid: string): Promise<Uint8Array>;
}

export interface WriteTreeOptions {
  /** An earlier checkout to take unchanged files from; each is used only if its bytes hash to the entry's blob id. */
  reuseFrom?: string;
}

export interface WriteTreeStats {
  files: number;
  /** Files taken from `reuseFrom` instead of the object store. */
  reused: number;
}

/** Larger files are always read from the object store: a mismatch would waste the whole read. */
const REUSE_MAX_BYTES = 64 * 1024 ** 2;

/** Writes tree `treeOid` into `dir`, which must exist and be empty; throws on an unsafe entry name. */
export async function writeTree(reader: ObjectReader, treeOid: string, dir: string, options: WriteTreeOptions = {}): Promise<WriteTreeStats> {
  const files: { rel: string; entry: TreeEntry }[] = [];
  // Directories first, in tree order, so that every file's parent exists before the parallel writes.
  const visit = async (oid: string, rel: string): Promise<void> => {
    for (const entry of await reader.readTree(oid)) {
      if (!isSafeName(entry.path)) throw new Error(`unsafe path "${entry.path}" in tree ${oid}`);
      const path = rel === '' ? entry.path : `${rel}/${entry.path}`;
      if (entry.type === 'tree') {
        await mkdir(join(dir, path));
        await visit(entry.oid, path);
      } else if (entry.type === 'blob') files.push({ rel: path, entry });
      // type 'commit' is a submodule: its contents live in another repository, as in `git archive`.
    }
  };
  await visit(treeOid, '');
  let reused = 0;
  let written = 0;
  await runPool(files, 16, async ({ rel, entry }) => {
    // Crash tests kill mfd here, with half the tree written.
    if (written++ === Math.floor(files.length / 2)) await pauseForTest('checkout-partial');
    const path = join(dir, rel);
    if (entry.mode === '120000') {
      await symlink(Buffer.from(await reader.readBlob(entry.oid)), path);
      return;
    }
    const earlier = options.reuseFrom === undefined ? undefined : readIfBlob(join(options.reuseFrom, rel), entry.oid);
    if (earlier) reused++;
    const content = earlier ?? (await reader.readBlob(entry.oid));
    try {
      writeFileSync(path, content, { mode: entry.mode === '100755' ? 0o755 : 0o644 });
    } catch (error) {
      // The write(2) half of writeFileSync names no path; a full disk must say which file it refused.
      throw toFsError(error, { path, op: 'write' }) ?? error;
    }
  });
  return { files: files.length, reused };
}

/** git's id of a blob with these bytes (SHA-1 of "blob <size>\0" and the bytes). */
export function blobId(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

/**
 * The bytes of the regular file at `path` if they are exactly blob `oid`, else undefined. Never
 * follows a final symlink and never blocks on a FIFO or device a build may have left there.
 */
function readIfBlob(path: string, oid: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > REUSE_MAX_BYTES) return undefined;
    const content = readFileSync(fd);
    return blobId(content) === oid ? content : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** A tree entry name that stays inside the deployment and cannot plant a .git there. */
function isSafeName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\0]/.test(name) && name.toLowerCase() !== '.git';
}

async function runPool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}
