import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { fdSink } from '../../src/sys/fdwrite.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { execFileSync } from 'node:child_process';

// A real FIFO: both ends opened non-blocking, so a write larger than the pipe's buffer hits EAGAIN.
async function fifo(t: TestContext): Promise<{ reader: number; writer: number; drain: () => Buffer }> {
  const path = join(await tmpRoot(t), 'fifo');
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const drain = () => {
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(65536);
    for (;;) {
      try {
        const n = readSync(reader, buf);
        if (n === 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw error;
      }
    }
    return Buffer.concat(chunks);
  };
  return { reader, writer, drain };
}

describe('fdwrite', () => {
  test('writes straight to the descriptor, and hands the rest to the stream when it would block', async (t) => {
    const { reader, writer, drain } = await fifo(t);
    const later: Buffer[] = [];
    const sink = fdSink(writer, () => ({ write: (b: Buffer | string) => later.push(Buffer.from(b)), on: () => undefined }) as unknown as NodeJS.WritableStream);
    sink.write('first line\n');
    assert.equal(drain().toString(), 'first line\n');
    const big = 'x'.repeat(1 << 20);
    sink.write(big);
    sink.write('after\n');
    const direct = drain();
    assert.ok(direct.length > 0 && direct.length < big.length, 'part went through the fd before it filled');
    assert.equal(Buffer.concat([direct, ...later]).toString(), `${big}after\n`, 'nothing lost, nothing reordered');
    closeSync(writer);
    closeSync(reader);
  });

  test('drops output once the reader has gone instead of failing the command', async (t) => {
    const { reader, writer } = await fifo(t);
    closeSync(reader);
    const sink = fdSink(writer, () => assert.fail('no fallback for a closed pipe'));
    sink.write('nobody reads this\n');
    sink.write('nor this\n');
    closeSync(writer);
  });

  test('drops output to a descriptor that is not open, as with `mfd ls >&-`', () => {
    const sink = fdSink(987_654, () => assert.fail('no fallback for a closed descriptor'));
    sink.write('nowhere\n');
  });
});
