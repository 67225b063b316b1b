// The cached bare repository .mfd/repo.git: created on first use with a credential-free remote,
// and repaired of what a crash left (damaged packs, a thin fetch cut short) before it is read.
import { closeSync, constants, existsSync, openSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from '../sys/files.ts';
import { join } from 'node:path';
import { addRemote, getConfig, init } from 'isomorphic-git';
import { fs, LAST_FETCHED, REMOTE, type CacheLock } from './iso.ts';
import { damagedPacks } from './packcheck.ts';
import type { Connection } from './transport.ts';

/** Creates the bare cache on first use; the remote's URL in its config never holds credentials. */
export async function openCache(conn: Connection, gitdir: string): Promise<void> {
  if (!existsSync(join(gitdir, 'HEAD'))) {
    await mkdir(gitdir, { recursive: true });
    await init({ fs, gitdir, bare: true, defaultBranch: LAST_FETCHED });
  }
  const current = (await getConfig({ fs, gitdir, path: `remote.${REMOTE}.url` })) as string | undefined;
  if (current !== conn.url) await addRemote({ fs, gitdir, remote: REMOTE, url: conn.url, force: true });
}

/**
 * Removes the packs a crash left damaged (packcheck.ts), with every other pack, so the cache reads
 * again and is fetched anew, as a first deploy fetches. Looking is read-only; the removal waits for
 * the cache lock, and looks again under it, as a pack another run is still writing looks damaged
 * too. Returns how many packs were damaged.
 */
export async function repairPacks(gitdir: string, lock: CacheLock): Promise<Repair> {
  if ((await damagedPacks(join(gitdir, 'objects', 'pack'))).length === 0 && !existsSync(join(gitdir, INCOMPLETE)) && !existsSync(join(gitdir, THIN_MARKER))) return { damaged: 0, incomplete: false };
  return lock(() => removeDamagedPacks(gitdir));
}

/** What repairPacks found: damaged packs, or the mark of a checkout that found objects missing. */
export interface Repair {
  damaged: number;
  incomplete: boolean;
}

/**
 * Left in the cache by a checkout that found an object of a cached commit missing: a server that
 * sent a pack without all of the commit's tree (git's own fetch would refuse it). That commit
 * counts as cached, so no fetch would ever bring the rest: the next repair starts the cache over.
 */
const INCOMPLETE = 'mfd-incomplete';

/**
 * Left by a fetch of an older mfd killed between storing a thin pack and rewriting it
 * self-contained (fetches now store only self-contained packs: pack-receive.ts). That one thin
 * pack counts as a damaged pack: the cache starts over, as for any other pack a crash left.
 */
const THIN_MARKER = 'mfd-thin-fetch.json';

export function markIncomplete(gitdir: string, missing: string): void {
  try {
    // Never through a link someone put in its place.
    const fd = openSync(join(gitdir, INCOMPLETE), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    try {
      writeSync(fd, `${missing}\n`);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Best effort: the checkout's error says what is missing, and its hint how to start over.
  }
}

/** The removal of repairPacks, for callers that already hold the cache lock. */
export async function removeDamagedPacks(gitdir: string): Promise<Repair> {
  const packDir = join(gitdir, 'objects', 'pack');
  const damaged = (await damagedPacks(packDir)).length + (existsSync(join(gitdir, THIN_MARKER)) ? 1 : 0);
  const incomplete = existsSync(join(gitdir, INCOMPLETE));
  if (damaged === 0 && !incomplete) return { damaged: 0, incomplete };
  // Not the damaged ones alone: a power cut can damage any recent pack, and the packs after it
  // hold only what changed since (thin fetches) and the last fetched commit, whose "have" would
  // make every later fetch leave out again what the damaged one held: a checkout would then miss
  // objects for good. Indexes first: a pack without its index is invisible.
  const files = await readdir(packDir);
  for (const file of [...files.filter((f) => f.endsWith('.idx')), ...files.filter((f) => !f.endsWith('.idx'))]) await rm(join(packDir, file), { force: true });
  // Without packs, the last fetch's ref and the history's boundaries name commits that are gone.
  await rm(join(gitdir, 'refs', 'heads', LAST_FETCHED), { force: true });
  await rm(join(gitdir, 'shallow'), { force: true });
  await rm(join(gitdir, INCOMPLETE), { force: true });
  await rm(join(gitdir, THIN_MARKER), { force: true });
  return { damaged, incomplete };
}

/** Whether the cache's history is cut off (a depth-limited fetch): deepening may still find more. */
export async function isShallow(gitdir: string): Promise<boolean> {
  try {
    return (await readFile(join(gitdir, 'shallow'), 'utf8')).trim() !== '';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
