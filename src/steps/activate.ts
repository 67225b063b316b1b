// `active` always points at a complete deployment: we create a temporary link beside it and
// rename(2) it over `active` (atomic on POSIX), then fsync the root so the swap survives a crash.
import { lstat, readdir, readlink, rename, rm, symlink } from '../sys/files.ts';
import { basename } from 'node:path';
import { ActivateFailedError } from '../errors/index.ts';
import { ACTIVE_TMP_PREFIX, type Layout } from '../state/layout.ts';
import { fsyncDir } from '../state/atomicfile.ts';
import { pauseForTest } from '../sys/testhook.ts';

/** Points `active` at deployment `name` (relative target, as Go mfd writes it). */
export async function activate(layout: Layout, name: string): Promise<void> {
  const existing = await lstat(layout.active).catch(() => undefined);
  if (existing && !existing.isSymbolicLink()) {
    throw new ActivateFailedError(name, `${layout.active} exists and is not a symlink`);
  }
  try {
    await rm(layout.activeTmp, { force: true });
    await symlink(name, layout.activeTmp);
    await pauseForTest('swap');
    await rename(layout.activeTmp, layout.active);
    await fsyncDir(layout.root);
  } catch (error) {
    await rm(layout.activeTmp, { force: true }).catch(() => undefined);
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ActivateFailedError(name, `${reason} in ${layout.root}`, error);
  }
}

/** The deployment name `active` points at, or undefined when there is no `active` yet. */
export async function readActive(layout: Layout): Promise<string | undefined> {
  try {
    return basename(await readlink(layout.active));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EINVAL') return undefined;
    throw error;
  }
}

/** Removes temporary links that a killed run left beside `active`; returns their names. */
export async function removeStaleActiveTmp(layout: Layout): Promise<string[]> {
  const leftovers = (await readdir(layout.root)).filter((n) => n.startsWith(ACTIVE_TMP_PREFIX));
  for (const name of leftovers) await rm(`${layout.root}/${name}`, { force: true });
  return leftovers;
}
