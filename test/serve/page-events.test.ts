// The live run the status page shows (serve/events.ts): fed a run's real event vocabulary, it keeps
// the steps so far and the last lines printed, takes the run's id from its first event, and tells
// its listeners; a listener that throws never reaches the run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LiveLog, LiveRuns, type LiveListener } from '../../src/serve/events.ts';
import { createAppLoop } from '../../src/cd/app-loop.ts';
import { appFixture } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';

describe('serve/events', () => {
  test('a run: its id and start from its first event, its steps with their outcome, the last lines without terminal codes, then its end', () => {
    let clock = 1_500;
    const live = new LiveRuns({ now: () => clock });
    const heard: Parameters<LiveListener>[0][] = [];
    live.listen((e) => heard.push(structuredClone(e)));
    live.listen(() => {
      throw new Error('a closed connection');
    });
    const lines: string[] = [];
    const log = new LiveLog((l) => lines.push(l), live);
    log.handle({ type: 'run-started', runId: '20261201T100001Z-deploy-4242-2', command: 'deploy', trigger: 'poll', at: 1_000 });
    log.handle({ type: 'step-started', step: 'resolve', detail: 'main' });
    clock = 2_000;
    log.handle({ type: 'step-finished', step: 'resolve', detail: 'main', summary: 'main → abc', ms: 12, outcome: 'ok' });
    log.handle({ type: 'step-started', step: 'build', detail: '1 command(s)' });
    log.handle({ type: 'output', chunk: '\x1b[32mcompiling\x1b[0m 1\npart' });
    log.handle({ type: 'output', chunk: 'ial line\n' });
    for (let i = 0; i < 20; i++) log.handle({ type: 'output', chunk: `line ${i}\n` });
    const run = live.run!;
    assert.equal(run.runId, '20261201T100001Z-deploy-4242-2', 'the id its run-started event gave');
    assert.equal(run.startedAt, 1_000);
    assert.deepEqual(run.steps.map((s) => [s.step, s.state, s.detail]), [['resolve', 'ok', 'main → abc'], ['build', 'running', '1 command(s)']]);
    assert.equal(run.tail.length, 8, 'only the last lines');
    assert.equal(run.tail.at(-1), 'line 19');
    assert.ok(lines.some((l) => l.startsWith('info: resolve main → abc ok')), 'the log still gets its lines');
    log.handle({ type: 'run-finished', outcome: 'success', sha: 'abc', deployment: 'mfd_1_abc', error: null, at: 3_000 });
    assert.equal(live.run?.finishing, true, 'ended, its records still being written');
    assert.ok(!heard.some((e) => e.type === 'finished'), 'not told before the loop settles');
    log.settled();
    assert.equal(live.run, undefined);
    assert.deepEqual(heard.at(-1), { type: 'finished', outcome: 'success', sha: 'abc' });
    assert.ok(heard.some((e) => e.type === 'run' && e.run.tail.includes('compiling 1') && e.run.tail.includes('partial line')), 'colour codes dropped, a line split across chunks joined');
  });

  test('a page hears a loop run has finished only once its history line is written, so its reload shows the run', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    const { ctx } = await testContext(app.root);
    const live = new LiveRuns({ now: Date.now });
    // What the page does on `finished`: reload, which reads .mfd/history.jsonl; here at once, synchronously.
    const seen: string[] = [];
    live.listen((event) => {
      if (event.type !== 'finished') return;
      const history = readFileSync(join(app.root, '.mfd', 'history.jsonl'), 'utf8').trim().split('\n');
      for (const line of history) {
        const entry = JSON.parse(line) as { sha: string; outcome: string };
        seen.push(`${entry.outcome} ${entry.sha}`);
      }
    });
    const loop = createAppLoop(ctx, new LiveLog(() => {}, live));
    loop.loop.poke({ kind: 'poll' });
    await loop.loop.idle();
    assert.deepEqual(seen, [`success ${sha}`]);
    assert.equal(live.run, undefined);
  });
});
