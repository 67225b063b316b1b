// Crash-safe small-file writes: write a temp file beside the target, fsync it, rename it over the
// target, fsync the directory. A reader sees the old content or the new one, never a torn file.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, rename, rm } from '../sys/files.ts';
import { dirname, basename, join } from 'node:path';
import { onPath } from '../errors/fs.ts';

export async function writeFileAtomic(path: string, data: string, mode = 0o644): Promise<void> {
  // A random name, not the pid: two writers of one file (two runs in one process, or two
  // processes) must never share a temp file; 'wx' refuses to reuse (or follow) one that exists.
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
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
export async function keepNewestLines(path: string, keep: number): Promise<{ kept: string[]; dropped: number } | undefined> {
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
  await writeFileAtomic(path, `${kept.join('\n')}\n`);
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
