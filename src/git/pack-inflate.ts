// One pack entry inflated from positioned reads of the pack, piece by piece, so an object larger
// than a read is never held whole: what the indexer and the checkout use (issue #14, large packs).
import { readSync } from 'node:fs';
import { crc32, createInflate, inflateSync } from 'node:zlib';
import { PackProblem } from './pack-format.ts';

/** Positioned reads of a pack file's bytes, through a read window. */
export interface PackSource {
  readonly size: number;
  /** `length` bytes at `position` (fewer only at the end); valid until the next read. */
  read(position: number, length: number): Buffer;
}

/** Input fed to the streaming inflater at a time, and the file reads' window. */
const CHUNK = 256 * 1024;
const WINDOW = 4 * 1024 * 1024;
/** Objects up to this size are inflated in one call: thousands of small ones cost one call each. */
const SMALL = 1024 * 1024;

/** Reads of `fd` (`size` bytes), served from one window of WINDOW bytes: one read(2) per window, not per object. */
export function fileSource(fd: number, size: number): PackSource {
  let window: Buffer = Buffer.alloc(0);
  let windowAt = 0;
  const readAt = (position: number, length: number): Buffer => {
    const out = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - position)));
    let got = 0;
    while (got < out.length) {
      const n = readSync(fd, out, got, out.length - got, position + got);
      if (n === 0) throw new PackProblem(`the pack file ends at ${position + got}, before its ${size} bytes`);
      got += n;
    }
    return out;
  };
  return {
    size,
    read(position, length) {
      const end = Math.min(size, position + length);
      if (position >= windowAt && end <= windowAt + window.length) return window.subarray(position - windowAt, end - windowAt);
      if (length > WINDOW / 2) return readAt(position, length);
      window = readAt(position, WINDOW);
      windowAt = position;
      return window.subarray(0, end - position);
    },
  };
}

/** The CRC32 of bytes [start, end), read in pieces. */
export function crcRange(src: PackSource, start: number, end: number): number {
  let crc = 0;
  for (let at = start; at < end; at += CHUNK) crc = crc32(src.read(at, Math.min(CHUNK, end - at)), crc);
  return crc;
}

/**
 * Inflates the zlib stream at `start` (it may run at most to `limit`), which must make exactly
 * `size` bytes; each piece goes to `onData` as it comes. Returns the stream's compressed length.
 * PackProblem, naming the entry at `offset`, when it does not inflate or makes another size.
 */
export async function inflateEntry(src: PackSource, offset: number, start: number, limit: number, size: number, onData: (piece: Buffer) => void): Promise<number> {
  if (size <= SMALL) {
    // zlib's deflateBound for `size` bytes, with room to spare: what git's own objects fit in.
    const windowEnd = Math.min(limit, start + size + (size >> 8) + 64);
    try {
      // At most one byte more than declared: enough to see a lie, never an unbounded buffer.
      const result = inflateSync(src.read(start, windowEnd - start), { info: true, maxOutputLength: size + 1 }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
      if (result.buffer.length !== size) throw new PackProblem(`the object at ${offset} inflates to ${result.buffer.length} bytes, not the ${size} it declares`);
      onData(result.buffer);
      return result.engine.bytesWritten;
    } catch (error) {
      if (error instanceof PackProblem) throw error;
      // A stream longer than the window (an unusual encoder's) is read in pieces below.
      const truncated = (error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' && windowEnd < limit;
      if (!truncated) throw new PackProblem(`the object at ${offset} does not inflate: ${(error as Error).message}`);
    }
  }
  return inflateStreaming(src, offset, start, limit, size, onData);
}

async function inflateStreaming(src: PackSource, offset: number, start: number, limit: number, size: number, onData: (piece: Buffer) => void): Promise<number> {
  const z = createInflate();
  let produced = 0;
  let failure: Error | undefined;
  /** What `onData` threw (a full disk, say): thrown as it is, not as a bad pack. */
  let sinkFailure: { error: unknown } | undefined;
  const finished = new Promise<void>((resolve) => {
    z.on('end', resolve);
    z.on('close', resolve);
    z.on('error', (error) => {
      failure ??= error;
      resolve();
    });
  });
  z.on('data', (piece: Buffer) => {
    produced += piece.length;
    if (produced > size) {
      failure ??= new PackProblem(`the object at ${offset} inflates to more than the ${size} bytes it declares`);
      z.destroy();
      return;
    }
    try {
      onData(piece);
    } catch (error) {
      // Thrown out of an event listener it would be uncaught: kept, and thrown by this function.
      sinkFailure ??= { error };
      failure ??= new Error('the sink failed');
      z.destroy();
    }
  });
  try {
    let fed = 0;
    for (let at = start; failure === undefined; ) {
      if (at >= limit) {
        z.end();
        break;
      }
      const piece = Buffer.from(src.read(at, Math.min(CHUNK, limit - at)));
      at += piece.length;
      fed += piece.length;
      await Promise.race([new Promise<void>((resolve) => z.write(piece, () => resolve())), finished]);
      // The engine takes less than it was given once the stream has ended: the entry ends there.
      if (z.bytesWritten < fed) break;
    }
    await finished;
  } finally {
    z.destroy();
  }
  if (sinkFailure) throw sinkFailure.error;
  if (failure) throw failure instanceof PackProblem ? failure : new PackProblem(`the object at ${offset} does not inflate: ${failure.message}`);
  if (produced !== size) throw new PackProblem(`the object at ${offset} inflates to ${produced} bytes, not the ${size} it declares`);
  return z.bytesWritten;
}
