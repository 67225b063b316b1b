// Crash-safe small-file writes: write a temp file beside the target, fsync it, rename it over the
// target, fsync the directory. A reader sees the old content or the new one, never a torn file;
// a temp file a kill -9 left is named with its writer's pid, so recovery can prove it abandoned.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, readFile, rename, rm } from '../sys/files.ts';
import { dirname, basename, join } from 'node:path';
import { onPath } from '../errors/fs.ts';
import { isAlive, isSignalable } from '../sys/process.ts';

/** `.<target>.tmp-<pid>-<12 hex>`: the writer's pid, then 6 random bytes. */
const TEMP_NAME = /^\.[^/]+\.tmp-([1-9][0-9]{0,6})-[0-9a-f]{12}$/;

export interface AtomicWrite {
  mode?: number;
  /**
   * The writing process's pid (the Context's identity, `layout.pid`), named in the temp file so a
   * later run can prove a leftover abandoned (removeAbandonedTemps). Omitted only where every
   * writer of the file holds one lock, which then proves it instead (removeTempsOf).
   */
  writer?: number;
}

/**
 * The temp name for `path`. The random part keeps two writers of one file (two runs in one
 * process) apart; the writer's pid lets a later run see that the writer is gone.
 */
export function tempPathOf(path: string, writer?: number): string {
  const pid = writer === undefined ? '' : `${writer}-`;
  return join(dirname(path), `.${basename(path)}.tmp-${pid}${randomBytes(6).toString('hex')}`);
}

/** The writer's pid a temp name of ours carries, or undefined for any other name. */
export function tempWriterOf(name: string): number | undefined {
  const pid = Number(TEMP_NAME.exec(name)?.[1]);
  return isSignalable(pid) ? pid : undefined;
}

export async function writeFileAtomic(path: string, data: string, { mode = 0o644, writer }: AtomicWrite = {}): Promise<void> {
  // 'wx' refuses to reuse (or follow) a temp file that exists.
  const tmp = tempPathOf(path, writer);
  const handle = await open(tmp, 'wx', mode);
  try {
    try {
      // A write on a handle names no path: say which file a full disk refused.
      await onPath(path, 'write', async () => {
        await handle.writeFile(data);
        await handle.sync();
      });
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    // A temp file a full disk left half-written must not stay behind, taking what space is left.
    await rm(tmp, { force: true });
    throw error;
  }
  await fsyncDir(dirname(path));
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Bounds an append-only JSON-lines file: once it holds more than twice `keep` lines, it is
 * rewritten atomically with the newest `keep`. Returns the lines kept, or undefined when the file
 * is missing or short enough (the common case: a read, no write).
 */
export async function keepNewestLines(path: string, keep: number, writer: number): Promise<{ kept: string[]; dropped: number } | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const lines = text.split('\n').filter((l) => l.trim());
  if (lines.length <= 2 * keep) return undefined;
  const kept = lines.slice(-keep);
  await writeFileAtomic(path, `${kept.join('\n')}\n`, { writer });
  return { kept, dropped: lines.length - kept.length };
}

/**
 * Appends `line` and its newline to a JSON-lines file, created if missing, never through a
 * symbolic link (ELOOP). A last line left without its newline (a full disk cut a write short) is
 * ended first, so it cannot swallow this one: readJsonLines then skips the torn line alone.
 */
export async function appendLine(path: string, line: string): Promise<void> {
  const handle = await open(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  try {
    await onPath(path, 'write', async () => {
      const { size } = await handle.stat();
      const last = Buffer.alloc(1);
      const torn = size > 0 && (await handle.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a;
      await handle.write(`${torn ? '\n' : ''}${line}\n`);
    });
  } finally {
    await handle.close();
  }
}

/**
 * Removes, from each of `dirs`, the temp files a killed writer left: only names of our exact
 * pattern, only regular files (a link or a directory of that name is left alone; unlink never
 * follows one), only when the pid the name carries is not ours and not alive. A pid reused since
 * keeps its file: that is the safe side. Returns the paths removed; a directory that is missing or
 * is not a real directory (a link) is skipped.
 */
export async function removeAbandonedTemps(dirs: string[], self: number): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of dirs) {
    // Missing (no status marker was ever written) or not a directory: nothing of ours to remove.
    const info = await lstat(dir).catch(() => undefined);
    if (!info?.isDirectory()) continue;
    for (const name of await readdir(dir)) {
      const pid = tempWriterOf(name);
      if (pid === undefined || pid === self || isAlive(pid)) continue;
      const path = join(dir, name);
      // Gone since the readdir: nothing to remove.
      if (!(await lstat(path).catch(() => undefined))?.isFile()) continue;
      await rm(path, { force: true });
      removed.push(path);
    }
  }
  return removed;
}

/**
 * Removes the temp files earlier writes of `path` left beside it, pid or none. Only for a file
 * every writer of which holds a lock the caller holds now, so none of them can be writing.
 */
export async function removeTempsOf(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.tmp-`;
  const removed: string[] = [];
  // No cache yet (a first fetch creates it): nothing to remove.
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix) || !/^([1-9][0-9]{0,6}-)?[0-9a-f]{12}$/.test(name.slice(prefix.length))) continue;
    const at = join(dir, name);
    // Gone since the readdir: nothing to remove.
    if (!(await lstat(at).catch(() => undefined))?.isFile()) continue;
    await rm(at, { force: true });
    removed.push(at);
  }
  return removed;
}
