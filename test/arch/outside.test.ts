// The Context is the only door to the outside (issue #11): outside src/cli.ts and src/context.ts
// no module reads the environment, the wall clock, its own pid or the host name. Durations use
// performance.now(), which is not the wall clock and is allowed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const DOORS = new Set(['cli.ts', 'context.ts']);
const BANNED = ['process.env', 'Date.now(', 'process.pid', 'hostname('];

/**
 * The one exception, and why: the crash-test points inside a step (checkout-partial, swap, the
 * compaction's) sit in git/ and steps/ code that has no Context, and threading a test concern
 * through every git call would be worse. testPauseAt() is the only read; the factory warns when
 * the variable is set and removes it from every child's environment (src/context.ts).
 */
const NOT_YET: Record<string, string[]> = {
  'sys/testhook.ts': ['process.env'],
};

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

describe('the outside world', () => {
  test('only cli.ts and context.ts read process.env, Date.now(), process.pid or hostname()', async () => {
    const found: string[] = [];
    for (const file of await sourceFiles(SRC)) {
      const name = relative(SRC, file);
      if (DOORS.has(name)) continue;
      const text = await readFile(file, 'utf8');
      for (const word of BANNED) {
        if (text.includes(word) && !NOT_YET[name]?.includes(word)) found.push(`${name}: ${word}`);
      }
    }
    assert.deepEqual(found, [], 'take the value from the Context (src/context.ts) instead');
  });

  test('every allow-list entry is still needed, so the list only shrinks', async () => {
    const stale: string[] = [];
    for (const [name, words] of Object.entries(NOT_YET)) {
      const text = await readFile(join(SRC, name), 'utf8').catch(() => '');
      for (const word of words) if (!text.includes(word)) stale.push(`${name}: ${word}`);
    }
    assert.deepEqual(stale, [], 'remove these entries from NOT_YET');
  });
});
