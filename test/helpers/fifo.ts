// A FIFO the test holds open: a process that reads it (`cat held.fifo`) blocks until the test
// ends, so a test can keep a child's pipe open for exactly as long as it needs, with no sleep.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export function heldFifo(t: TestContext, dir: string): string {
  const fifo = join(dir, 'held.fifo');
  execFileSync('mkfifo', [fifo]);
  // O_RDWR: on Linux opening a FIFO so never blocks, and it is the writer a reader waits on.
  const fd = openSync(fifo, 'r+');
  t.after(() => closeSync(fd));
  return fifo;
}
