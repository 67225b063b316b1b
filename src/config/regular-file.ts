// The text of a file mfd reads its settings from (mfd.toml, a token or secret file): only a regular
// file, and only up to a bound. A FIFO would hold the command for ever waiting for a writer
// (O_NONBLOCK opens it without waiting, so it can be refused) and a device such as /dev/zero never ends.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

export type RegularFileRead =
  | { ok: true; text: string }
  /** open(2) or read(2) failed: `errno` is its code (ENOENT, EACCES, ...). */
  | { ok: false; problem: 'unreadable'; errno: string; cause: unknown }
  /** Not a regular file: `kind` says what it is, as a phrase ("a FIFO (named pipe)"). */
  | { ok: false; problem: 'not-regular'; kind: string }
  | { ok: false; problem: 'too-large' };

/**
 * Reads a file of at most `maxBytes` as UTF-8. Synchronous: a small local file, and no
 * node:fs/promises to load at start-up. A link is followed: a credential may well be one.
 */
export function readRegularFile(path: string, maxBytes: number): RegularFileRead {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    return unreadable(error);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return { ok: false, problem: 'not-regular', kind: kindOf(info) };
    // One byte more than the limit tells a file at the limit from a larger one (it may grow as it is read).
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) return { ok: false, problem: 'too-large' };
    return { ok: true, text: buffer.toString('utf8', 0, length) };
  } catch (error) {
    return unreadable(error);
  } finally {
    closeSync(fd);
  }
}

function unreadable(error: unknown): RegularFileRead {
  return { ok: false, problem: 'unreadable', errno: (error as NodeJS.ErrnoException).code ?? String(error), cause: error };
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'of another type';
}
