// `active` always points at a complete deployment: we create a temporary link beside it and
// rename(2) it over `active` (atomic on POSIX), then fsync the root so the swap survives a crash.
import { lstat, readdir, readlink, rename, rm, symlink } from '../sys/files.ts';
import { basename } from 'node:path';
import { ActivateFailedError } from '../errors/index.ts';
import { parseDeploymentName } from '../state/deployment.ts';
import { ACTIVE_TMP_PREFIX, type Layout } from '../state/layout.ts';
import type { OnWarning } from '../state/stored.ts';
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

/** What `active` is: absent (or no link), a link to a deployment of this app root, or a link to anything else. */
export type ActiveLink = { kind: 'none' } | { kind: 'deployment'; name: string } | { kind: 'foreign'; target: string };

/**
 * Reads `active`. Its target is input: only a deployment's own name (relative, as mfd and Go mfd
 * write it), or that directory's absolute path in this root, names a deployment. Anything else
 * (`/etc`, `../other/mfd_…`) is `foreign`: its basename may match one of ours, but it is not it.
 */
export async function inspectActive(layout: Layout): Promise<ActiveLink> {
  let target: string;
  try {
    target = await readlink(layout.active);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EINVAL') return { kind: 'none' };
    throw error;
  }
  const name = basename(target);
  const ours = parseDeploymentName(name) !== undefined && (target === name || target === layout.deployment(name));
  return ours ? { kind: 'deployment', name } : { kind: 'foreign', target };
}

/**
 * The deployment name `active` points at, or undefined when there is no `active` yet or it points
 * at something that is no deployment of this app root (then `onForeign` is told, once).
 */
export async function readActive(layout: Layout, onForeign?: OnWarning): Promise<string | undefined> {
  const link = await inspectActive(layout);
  if (link.kind === 'foreign') onForeign?.(...describeForeignActive(link.target));
  return link.kind === 'deployment' ? link.name : undefined;
}

/** The warning for an `active` that points elsewhere: message and hint. The target is quoted (it may hold anything). */
export function describeForeignActive(target: string): [string, string] {
  return [
    `active points at ${JSON.stringify(target)}, which is not a deployment of this app root (a directory mfd_<unix>_<sha> beside active)`,
    'mfd never treats it as a deployment: "mfd deploy <ref>" or "mfd rollback <sha>" points active at one again, and leaves what it points at alone',
  ];
}

/** Removes temporary links that a killed run left beside `active`; returns their names. */
export async function removeStaleActiveTmp(layout: Layout): Promise<string[]> {
  const leftovers = (await readdir(layout.root)).filter((n) => n.startsWith(ACTIVE_TMP_PREFIX));
  for (const name of leftovers) await rm(`${layout.root}/${name}`, { force: true });
  return leftovers;
}
