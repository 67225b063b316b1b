// Writes a git tree into a directory: files with their exec bit, symlinks as symlinks, submodules
// skipped, nothing named .git. Objects come through the reader git.ts passes in, so it alone touches iso-git.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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

/** Writes tree `treeOid` into `dir`, which must exist and be empty; throws on an unsafe entry name. */
export async function writeTree(reader: ObjectReader, treeOid: string, dir: string): Promise<void> {
  const files: { path: string; entry: TreeEntry }[] = [];
  // Directories first, in tree order, so that every file's parent exists before the parallel writes.
  const visit = async (oid: string, into: string): Promise<void> => {
    for (const entry of await reader.readTree(oid)) {
      if (!isSafeName(entry.path)) throw new Error(`unsafe path "${entry.path}" in tree ${oid}`);
      const path = join(into, entry.path);
      if (entry.type === 'tree') {
        await mkdir(path);
        await visit(entry.oid, path);
      } else if (entry.type === 'blob') files.push({ path, entry });
      // type 'commit' is a submodule: its contents live in another repository, as in `git archive`.
    }
  };
  await visit(treeOid, dir);
  await runPool(files, 16, async ({ path, entry }) => {
    const blob = await reader.readBlob(entry.oid);
    if (entry.mode === '120000') await symlink(Buffer.from(blob), path);
    else await writeFile(path, blob, { mode: entry.mode === '100755' ? 0o755 : 0o644 });
  });
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
