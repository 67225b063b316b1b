// The run's log file (state/runlog.ts): one per run, created exclusively, appended to line by line,
// and never written through a link, whoever swaps one in while the run goes on.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { layoutOf } from '../../src/state/layout.ts';
import { openRunLog, readRunLogText } from '../../src/state/runlog.ts';
import { tmpRoot } from '../helpers/repo.ts';

describe('state/runlog', () => {
  test('a second run of one process in one second gets its own log; lines are appended in order', async (t) => {
    const layout = layoutOf(await tmpRoot(t), 4242);
    const at = Date.UTC(2026, 11, 1, 10, 0, 1);
    const one = openRunLog(layout, at, 'deploy', 4242);
    const two = openRunLog(layout, at, 'deploy', 4242);
    assert.deepEqual([one.runId, two.runId], ['20261201T100001Z-deploy-4242', '20261201T100001Z-deploy-4242-2']);
    one.write('a\n');
    one.write('b\n');
    assert.equal((await readRunLogText(layout, one.runId))?.text, 'a\nb\n');
    assert.equal((await readRunLogText(layout, two.runId))?.text, '');
  });

  test('a log swapped for a link mid-run is never written through: the write fails once, the target is untouched', async (t) => {
    const root = await tmpRoot(t);
    const layout = layoutOf(root, 4242);
    const failures: unknown[] = [];
    const log = openRunLog(layout, Date.now(), 'deploy', 4242, (error) => failures.push(error));
    log.write('building\n');
    const elsewhere = join(root, 'elsewhere.txt');
    await writeFile(elsewhere, 'untouched\n');
    await rm(log.file);
    await symlink(elsewhere, log.file);
    log.write('TOKEN=secret printed by the build\n');
    log.write('more\n');
    assert.equal(await readFile(elsewhere, 'utf8'), 'untouched\n');
    assert.equal(failures.length, 1, 'reported once');
    assert.equal((failures[0] as NodeJS.ErrnoException).code, 'ELOOP');
  });
});
