// The newest lines of a JSON-lines file, read backwards from its end in CHUNK_BYTES reads through a
// FileHandle: `mfd serve` answers its status page from the few lines it shows, however long the
// file has grown, and its event loop turns between the reads (stored.ts reads the whole file at once).
import { constants } from 'node:fs';
import type * as z from 'zod/mini';
import { FsError, FsLayoutError, toFsError } from '../errors/index.ts';
import { open } from '../sys/files.ts';
import { describeIssue, MAX_STATE_BYTES, stateTooLarge, type OnWarning } from './stored.ts';

export const CHUNK_BYTES = 64 * 1024;
/** Far more than any line mfd writes; a longer one is skipped unread, so memory stays bounded. */
export const MAX_LINE_BYTES = 1024 ** 2;

/**
 * Newest first: the lines `schema` accepts, from the end of `file` back, until `enough(found)` or
 * the file's start (a missing file has none). A line that is not JSON, is rejected, or is longer
 * than MAX_LINE_BYTES is skipped with a warning saying how far from the end it is. Refuses what
 * readStateText refuses (not a regular file, larger than MAX_STATE_BYTES), as FsErrors naming it.
 */
export async function readNewestJsonLines<T>(file: string, schema: z.ZodMiniType<T>, enough: (found: readonly T[]) => boolean, onWarning?: OnWarning): Promise<T[]> {
  let handle;
  try {
    // Non-blocking: a fifo in the file's place is refused below instead of waiting for a writer.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw toFsError(error, { path: file, op: 'read' }) ?? error;
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new FsLayoutError({ code: 'EISDIR', op: 'read', path: file });
    if (!info.isFile()) throw new FsError({ code: 'EINVAL', op: 'read', path: file }, { reason: 'it is not a regular file' });
    if (info.size > MAX_STATE_BYTES) throw stateTooLarge(file, info.size);
    const found: T[] = [];
    let fromEnd = 0;
    const take = (line: string | undefined) => {
      fromEnd++;
      const where = `${file}, line ${fromEnd} from the end`;
      if (line === undefined) return onWarning?.(`${where}: skipped a line longer than ${MAX_LINE_BYTES} bytes`);
      if (!line.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return onWarning?.(`${where}: skipped a line that is not JSON (cut short by a crash?)`);
      }
      const parsed = schema.safeParse(value);
      if (parsed.success) found.push(parsed.data);
      else onWarning?.(`${where}: skipped an invalid line: ${describeIssue(parsed.error)}`);
    };
    // The line that ends where the last read began: its pieces, newest first, until its start is read.
    let pieces: Buffer[] = [];
    let pieceBytes = 0;
    let end = info.size;
    // The text after the file's last newline is a line only when there is some (a torn append).
    let atEof = true;
    while (end > 0 && !enough(found)) {
      const start = Math.max(0, end - CHUNK_BYTES);
      const chunk = Buffer.alloc(end - start);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, start);
      // Shorter only if the file was cut under us (mfd rewrites by rename, so never): what was read is input.
      const bytes = chunk.subarray(0, bytesRead);
      // lastIndexOf's offset -1 would mean the buffer's last byte: nothing is left before 0.
      const newlineBefore = (at: number) => (at > 0 ? bytes.lastIndexOf(0x0a, at - 1) : -1);
      let stop = bytes.length;
      for (let nl = newlineBefore(stop); nl >= 0 && !enough(found); nl = newlineBefore(stop)) {
        const line = joined([...pieces, bytes.subarray(nl + 1, stop)], pieceBytes + stop - nl - 1);
        if (!(atEof && line === '')) take(line);
        atEof = false;
        pieces = [];
        pieceBytes = 0;
        stop = nl;
      }
      if (pieceBytes <= MAX_LINE_BYTES) pieces.push(bytes.subarray(0, stop));
      pieceBytes += stop;
      end = start;
    }
    if (end === 0 && !enough(found) && (pieceBytes > 0 || !atEof)) take(joined(pieces, pieceBytes));
    return found;
  } finally {
    await handle.close();
  }
}

/** The line `pieces` (newest first) make, or undefined when it is too long to be one of mfd's. */
function joined(pieces: Buffer[], bytes: number): string | undefined {
  if (bytes > MAX_LINE_BYTES) return undefined;
  return Buffer.concat(pieces.reverse()).toString('utf8');
}
