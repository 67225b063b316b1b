import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { layoutOf } from '../../src/state/layout.ts';
import { clearQuarantined, markQuarantined, quarantineFile, readQuarantine, type QuarantineMark } from '../../src/state/quarantine.ts';
import { tmpRoot } from '../helpers/repo.ts';

const shaOf = (i: number) => i.toString(16).padStart(40, '0');
const START = Date.parse('2026-01-01T00:00:00.000Z');
const markAt = (minute: number): QuarantineMark => ({ reason: `BUILD_FAILED: build ${minute} failed`, outcome: 'failed', at: new Date(START + minute * 60_000).toISOString(), user: 'deploy' });

async function marked(layout: ReturnType<typeof layoutOf>): Promise<string[]> {
  const q = await readQuarantine(layout);
  assert.ok(q.ok, q.ok ? '' : q.problem);
  return [...q.marks.keys()].sort();
}

describe('quarantine marks', () => {
  test('a failure a minute for 150 minutes leaves only the newest 100 marks, not one per failure for ever', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    for (let i = 0; i < 150; i++) await markQuarantined(layout, shaOf(i), markAt(i));
    assert.deepEqual(await marked(layout), Array.from({ length: 100 }, (_, k) => shaOf(50 + k)), 'the 50 oldest marks are dropped');
    const file = JSON.parse(await readFile(quarantineFile(layout), 'utf8')) as { marks: Record<string, QuarantineMark> };
    assert.equal(Object.keys(file.marks).length, 100, 'the file itself is trimmed');
  });

  test('a commit marked again counts from its latest mark, so it outlives older ones', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await markQuarantined(layout, shaOf(0), markAt(0));
    for (let i = 1; i < 120; i++) await markQuarantined(layout, shaOf(i), markAt(i));
    await markQuarantined(layout, shaOf(0), markAt(120));
    await markQuarantined(layout, shaOf(200), markAt(121));
    const kept = await marked(layout);
    assert.equal(kept.length, 100);
    assert.ok(kept.includes(shaOf(0)), 'marked again at minute 120: among the newest');
    assert.ok(!kept.includes(shaOf(21)) && kept.includes(shaOf(22)), `the oldest others are dropped: ${kept.slice(0, 3).join(' ')}`);
  });

  test('the mark just written is kept even when the clock was set back behind every other mark', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    for (let i = 0; i < 100; i++) await markQuarantined(layout, shaOf(i), markAt(1000 + i));
    await markQuarantined(layout, shaOf(500), markAt(0));
    const kept = await marked(layout);
    assert.equal(kept.length, 100);
    assert.ok(kept.includes(shaOf(500)), 'the commit that just failed stays quarantined');
    assert.ok(!kept.includes(shaOf(0)), 'the oldest of the others makes room');
  });

  test('clearing a mark leaves the others as they were', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    for (let i = 0; i < 3; i++) await markQuarantined(layout, shaOf(i), markAt(i));
    assert.equal(await clearQuarantined(layout, shaOf(1)), true);
    assert.deepEqual(await marked(layout), [shaOf(0), shaOf(2)]);
  });
});
