// Output straight to stdout/stderr's file descriptors. Creating process.stdout or process.stderr
// builds a stream (loading the net or tty modules for a pipe or a terminal), several ms of every
// command's start-up; mfd writes little, and on Linux those streams write synchronously anyway.
import { readlinkSync, writeSync } from 'node:fs';
import { OutputDiskFullError } from '../errors/disk.ts';

export interface TextSink {
  write(text: string): unknown;
}

let streamed = false;

/** Whether some output went through Node's stream (and so may still be on its way). */
export function outputStreamed(): boolean {
  return streamed;
}

/**
 * A sink for fd 1 or 2. When the descriptor is non-blocking and full (EAGAIN), the rest and all
 * later output go through Node's stream, which waits for it; when the reader has gone (EPIPE), the
 * terminal hung up (EIO) or the descriptor is closed (EBADF), output is dropped, as there is no one
 * left to read it: a write must never end a run before its clean-up has released the lock. On a
 * full disk (ENOSPC, EDQUOT: `mfd ls > /full/out`) the rest is dropped too; for stdout, which
 * carries the result, the write throws an OutputDiskFullError, so the command does not end as if
 * its result had been delivered.
 */
export function fdSink(fd: number, stream: () => NodeJS.WritableStream = () => (fd === 1 ? process.stdout : process.stderr)): TextSink {
  let fallback: NodeJS.WritableStream | undefined;
  let closed = false;
  return {
    write(text: string): void {
      if (closed) return;
      if (fallback) {
        fallback.write(text);
        return;
      }
      const bytes = Buffer.from(text);
      let done = 0;
      try {
        while (done < bytes.length) done += writeSync(fd, bytes, done);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // The reader has gone, the terminal hung up (ssh dropped: SIGHUP, then EIO on every write),
        // or the descriptor was closed before mfd started (`mfd ls >&-`).
        if (code === 'EPIPE' || code === 'EIO' || code === 'EBADF') closed = true;
        else if (code === 'ENOSPC' || code === 'EDQUOT') {
          closed = true;
          if (fd === 1) throw new OutputDiskFullError(code, destinationOf(fd), error);
        } else if (code === 'EAGAIN') {
          fallback = stream();
          streamed = true;
          // The stream fails the same ways later, as an 'error' event: one with no listener would
          // end the process, so it only stops the output.
          fallback.on('error', () => (closed = true));
          fallback.write(bytes.subarray(done));
        } else throw error;
      }
    },
  };
}

/** The file `fd` writes to, as /proc shows it, or undefined (no /proc, or not a path). */
function destinationOf(fd: number): string | undefined {
  try {
    const target = readlinkSync(`/proc/self/fd/${fd}`);
    return target.startsWith('/') ? target : undefined;
  } catch {
    // No /proc here: the message says "its destination" instead.
    return undefined;
  }
}
