// The cache's `shallow` file after a fetch, as git and isomorphic-git keep it: a commit the server
// calls shallow is a boundary unless all its parents are already here; an unshallowed one is not.
import { readFile, rm } from '../sys/files.ts';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/atomicfile.ts';
import type { PackStore } from './pack-read.ts';

/** Applies the `shallow` / `unshallow` lines of a fetch's answer (pack-receive.ts) to the cache. */
export async function updateShallow(gitdir: string, store: PackStore, update: { shallow: string[]; unshallow: string[] }): Promise<void> {
  if (update.shallow.length === 0 && update.unshallow.length === 0) return;
  const path = join(gitdir, 'shallow');
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const oids = new Set(text.split('\n').filter((l) => l !== ''));
  for (const oid of update.shallow) {
    if (oids.has(oid)) continue;
    const commit = store.read(oid);
    // Unreadable, or a parent missing: a boundary of the history this cache holds (a root is none).
    if (commit?.type !== 'commit' || !parentsOf(commit.content).every((p) => store.has(p))) oids.add(oid);
  }
  for (const oid of update.unshallow) oids.delete(oid);
  if (oids.size === 0) await rm(path, { force: true });
  // No writer pid: every write of the cache holds the cache lock, under which fetch.ts removes leftovers.
  else await writeFileAtomic(path, `${[...oids].join('\n')}\n`);
}

function parentsOf(content: Buffer): string[] {
  const head = content.toString('latin1', 0, Math.max(0, content.indexOf('\n\n')));
  return [...head.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((m) => m[1]!);
}
