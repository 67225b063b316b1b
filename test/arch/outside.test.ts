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
 * Files other helpers of issue #11 own, which still read the outside until their work lands.
 * The merger removes each entry once that file takes the value from the Context.
 */
const NOT_YET: Record<string, string[]> = {
  // RUN: the history line's user comes from ctx.identity.user once recordRun moves to run/.
  'state/history.ts': ['process.env'],
  // RUN: the run id takes ctx.identity.pid.
  'state/runlog.ts': ['process.pid'],
  // RUN: "a record naming our own pid" compares with ctx.identity.pid; the wait for a killed
  // build to die is a duration (performance.now()).
  'run/recover.ts': ['process.pid', 'Date.now('],
  // RUN: testPauseAt() returns ctx.testHook.pauseAt (read once by the factory) instead.
  'sys/testhook.ts': ['process.env'],
  // GUARD: loadConfig's default `env = process.env` goes; the factory always passes ctx.env.
  'config/config.ts': ['process.env'],
  // GUARD: LockHeldError's age is computed by its caller from ctx.now().
  'errors/lock.ts': ['Date.now('],
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
