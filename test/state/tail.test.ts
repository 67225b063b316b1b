// Reading a JSON-lines file from its end, on real files: the same lines readJsonLines gives, newest
// first, whatever chunk edge they straddle, and the same refusals of what is not a state file.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { FsError } from '../../src/errors/index.ts';
import { MAX_STATE_BYTES, readJsonLines } from '../../src/state/stored.ts';
import { CHUNK_BYTES, MAX_LINE_BYTES, readNewestJsonLines } from '../../src/state/tail.ts';
import { tmpRoot } from '../helpers/repo.ts';

const Line = z.object({ n: z.int(), text: z.string() });
type Line = z.infer<typeof Line>;

/** Lines of every length up to a few chunks, some with multi-byte characters, so edges fall everywhere. */
function lines(count: number): string[] {
  return Array.from({ length: count }, (_, n) => JSON.stringify({ n, text: `${'é✓'.repeat((n * 7919) % 700)}${'x'.repeat(n % 3)}` }));
}

const all = () => () => false;

describe('state/tail', () => {
  test('gives every line readJsonLines gives, newest first, with lines straddling chunk edges, a torn last line and a blank one', async (t) => {
    const file = join(await tmpRoot(t), 'h.jsonl');
    const text = [...lines(400).slice(0, 200), '', '{"n": "not a line"}', ...lines(400).slice(200), '{"n": 7, "te'].join('\n');
    assert.ok(Buffer.byteLength(text) > 8 * CHUNK_BYTES, 'the file spans many reads');
    await writeFile(file, text);
    const whole: string[] = [];
    const tail: string[] = [];
    const expected = (await readJsonLines<Line>(file, Line, (m) => whole.push(m))).reverse();
    const got = await readNewestJsonLines<Line>(file, Line, all(), (m) => tail.push(m));
    assert.deepEqual(got, expected);
    assert.equal(got.length, 400);
    // The same two lines skipped, each placed from the end: the torn last line is the first.
    assert.equal(tail.length, 2);
    assert.match(tail[0]!, /h\.jsonl, line 1 from the end: skipped a line that is not JSON/);
    assert.match(tail[1]!, /h\.jsonl, line 202 from the end: skipped an invalid line: n: /);
  });

  test('stops reading once it has enough: lines before those are never parsed, nor warned about', async (t) => {
    const file = join(await tmpRoot(t), 'h.jsonl');
    await writeFile(file, `{torn\n${lines(3000).join('\n')}\n`);
    const warnings: string[] = [];
    const got = await readNewestJsonLines<Line>(file, Line, (found) => found.length >= 20, (m) => warnings.push(m));
    assert.deepEqual(got.map((l) => l.n), Array.from({ length: 20 }, (_, i) => 2999 - i));
    assert.deepEqual(warnings, [], 'the torn first line is far before the newest 20');
    // Asked for more than there are, it reads to the start, first line included.
    const first: string[] = [];
    assert.equal((await readNewestJsonLines<Line>(file, Line, all(), (m) => first.push(m))).length, 3000);
    assert.deepEqual(first, [`${file}, line 3001 from the end: skipped a line that is not JSON (cut short by a crash?)`]);
  });

  test('a line longer than MAX_LINE_BYTES is skipped with a warning, and the lines around it still read', async (t) => {
    const file = join(await tmpRoot(t), 'h.jsonl');
    const long = JSON.stringify({ n: -1, text: 'y'.repeat(MAX_LINE_BYTES) });
    await writeFile(file, `${JSON.stringify({ n: 0, text: '' })}\n${long}\n${JSON.stringify({ n: 1, text: '' })}\n`);
    const warnings: string[] = [];
    const got = await readNewestJsonLines<Line>(file, Line, all(), (m) => warnings.push(m));
    assert.deepEqual(got.map((l) => l.n), [1, 0]);
    assert.deepEqual(warnings, [`${file}, line 2 from the end: skipped a line longer than ${MAX_LINE_BYTES} bytes`]);
  });

  test('a missing file has no lines; a directory, a fifo or a file past MAX_STATE_BYTES is refused as an FsError naming it', async (t) => {
    const root = await tmpRoot(t);
    assert.deepEqual(await readNewestJsonLines(join(root, 'none.jsonl'), Line, all()), []);
    const dir = join(root, 'dir.jsonl');
    await mkdir(dir);
    await assert.rejects(readNewestJsonLines(dir, Line, all()), (e: unknown) => e instanceof FsError && e.errno === 'EISDIR' && e.path === dir);
    const fifo = join(root, 'fifo.jsonl');
    execFileSync('mkfifo', [fifo]);
    // No writer: a blocking open or read would wait for ever.
    await assert.rejects(readNewestJsonLines(fifo, Line, all()), (e: unknown) => e instanceof FsError && e.path === fifo && /not a regular file/.test(e.message));
    const big = join(root, 'big.jsonl');
    await writeFile(big, '');
    await truncate(big, MAX_STATE_BYTES + 1); // sparse: no disk used
    await assert.rejects(readNewestJsonLines(big, Line, all()), (e: unknown) => e instanceof FsError && e.errno === 'EFBIG' && e.path === big);
  });
});
