// Every entry under a directory with what would show a change: a link's target, a directory's
// mtime and mode, a file's size, mtime, mode and content hash. Equal snapshots: nothing was written.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export async function snapshotTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const st = await lstat(path);
      const rel = path.slice(root.length);
      if (st.isSymbolicLink()) out[rel] = `link ${await readlink(path)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${st.mtimeMs} ${st.mode}`;
        await walk(path);
      } else out[rel] = `file ${st.size} ${st.mtimeMs} ${st.mode} ${createHash('sha256').update(await readFile(path)).digest('hex')}`;
    }
  };
  out['.'] = `dir ${(await lstat(root)).mtimeMs}`;
  await walk(root);
  return out;
}
