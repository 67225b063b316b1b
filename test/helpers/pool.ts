// Every thread of libuv's pool held, each blocked opening a FIFO: an asynchronous file call the
// code under test makes then waits in the pool's queue (first in, first out) until release(),
// while the test acts on the file system with synchronous calls. That is how a test puts another
// process's write between two of mfd's steps, at exactly that point and with no sleep.
import { execFileSync } from 'node:child_process';
import { close, closeSync, open, openSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export function holdThreadPool(t: TestContext, dir: string): () => Promise<void> {
  const size = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const fifos = Array.from({ length: size }, (_, i) => join(dir, `pool-${i}.fifo`));
  for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
  // O_RDONLY on a FIFO blocks its thread until a writer opens it.
  const held = fifos.map((fifo) => new Promise<number>((resolve, reject) => open(fifo, 'r', (error, fd) => (error ? reject(error) : resolve(fd)))));
  let released: Promise<void> | undefined;
  const release = () =>
    (released ??= (async () => {
      // O_RDWR never blocks on Linux, and counts as the writer each blocked open waits for.
      for (const fifo of fifos) closeSync(openSync(fifo, 'r+'));
      for (const fd of await Promise.all(held)) close(fd, () => undefined);
    })());
  t.after(release);
  return release;
}
