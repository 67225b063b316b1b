// Keeps `npm run bench:rss` from rotting: a short run (20 polls, 2 deploys) must measure every
// sample and give each phase a verdict. It asserts no figure: memory on a shared machine is noise.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tmpRoot } from '../helpers/repo.ts';

const RSS = fileURLToPath(new URL('../../bench/rss.ts', import.meta.url));

describe('bench:rss (e2e)', () => {
  test('a short run of the deploy loop samples RSS and heap through polls and deploys and judges each phase', async (t) => {
    const out = join(await tmpRoot(t), 'rss.json');
    const run = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', RSS, '--polls', '20', '--deploys', '2', '--out', out], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    assert.match(run.stdout, /^20 polls +heap [+-][\d.]+ MiB, RSS [+-][\d.]+ MiB: (flat|GROWING)$/m);
    const results = JSON.parse(await readFile(out, 'utf8'));
    assert.deepEqual(results.phases.map((p: { phase: string }) => p.phase), ['20 polls', '2 deploys']);
    assert.ok(results.samples.length >= 3);
    for (const s of results.samples) assert.ok(s.rssMiB > 0 && s.heapMiB > 0 && s.handles >= 0, JSON.stringify(s));
  });
});
