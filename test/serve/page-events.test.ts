// The live run the status page shows (serve/events.ts): fed a run's real event vocabulary, it keeps
// the steps so far and the last lines printed, finds the run's id among the log files, and tells
// its listeners; a listener that throws never reaches the run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpRoot } from '../helpers/repo.ts';
import { until } from '../helpers/hold.ts';
import { LiveLog, LiveRuns, type LiveListener } from '../../src/serve/events.ts';
import { layoutOf } from '../../src/state/layout.ts';

describe('serve/events', () => {
  test('a run: its steps with their outcome, the last lines without terminal codes, its id from its log file, then its end', async (t) => {
    const root = await tmpRoot(t);
    const layout = layoutOf(root, 4242);
    await mkdir(layout.logs, { recursive: true });
    // Another process's run and an older one of this process: neither is the run under way.
    for (const id of ['20261201T100000Z-deploy-4242', '20261201T100001Z-deploy-999', '20261201T100001Z-deploy-4242', '20261201T100001Z-deploy-4242-2']) await writeFile(layout.log(id), '');
    let clock = 1_000;
    const live = new LiveRuns({ now: () => clock, layout, pid: 4242 });
    const heard: Parameters<LiveListener>[0][] = [];
    live.listen((e) => heard.push(structuredClone(e)));
    live.listen(() => {
      throw new Error('a closed connection');
    });
    const lines: string[] = [];
    const log = new LiveLog((l) => lines.push(l), live);
    log.handle({ type: 'step-started', step: 'resolve', detail: 'main' });
    clock = 2_000;
    log.handle({ type: 'step-finished', step: 'resolve', detail: 'main', summary: 'main → abc', ms: 12, outcome: 'ok' });
    log.handle({ type: 'step-started', step: 'build', detail: '1 command(s)' });
    log.handle({ type: 'output', chunk: '\x1b[32mcompiling\x1b[0m 1\npart' });
    log.handle({ type: 'output', chunk: 'ial line\n' });
    for (let i = 0; i < 20; i++) log.handle({ type: 'output', chunk: `line ${i}\n` });
    await until(async () => live.run?.runId !== null, 'the run id');
    const run = live.run!;
    assert.equal(run.runId, '20261201T100001Z-deploy-4242-2', 'the newest log of this process');
    assert.equal(run.startedAt, 1_000);
    assert.deepEqual(run.steps.map((s) => [s.step, s.state, s.detail]), [['resolve', 'ok', 'main → abc'], ['build', 'running', '1 command(s)']]);
    assert.equal(run.tail.length, 8, 'only the last lines');
    assert.equal(run.tail.at(-1), 'line 19');
    assert.ok(lines.some((l) => l.startsWith('info: resolve main → abc ok')), 'the log still gets its lines');
    log.handle({ type: 'run-finished', outcome: 'success', sha: 'abc', deployment: 'mfd_1_abc', error: null, at: 3_000 });
    assert.equal(live.run, undefined);
    assert.deepEqual(heard.at(-1), { type: 'finished', outcome: 'success', sha: 'abc' });
    assert.ok(heard.some((e) => e.type === 'run' && e.run.tail.includes('compiling 1') && e.run.tail.includes('partial line')), 'colour codes dropped, a line split across chunks joined');
  });
});
