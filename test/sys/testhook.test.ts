import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { STEP_NAMES, type RunEvent, type StepName } from '../../src/sys/events.ts';
import { PAUSE_POINTS, pauseAtSteps, STEP_PAUSE_POINTS } from '../../src/sys/testhook.ts';

const finished = (step: StepName, outcome: 'ok' | 'failed'): RunEvent =>
  ({ type: 'step-finished', step, detail: '', summary: '', ms: 1, outcome });

describe('testhook', () => {
  test('every step pause point names a step of the one vocabulary', () => {
    for (const point of Object.values(STEP_PAUSE_POINTS)) assert.ok((STEP_NAMES as readonly string[]).includes(point.step), point.step);
    assert.ok(PAUSE_POINTS.includes('swap') && PAUSE_POINTS.includes('built'));
  });

  test('a pause point holds the run at its step\'s edge until the run\'s signal aborts, and nowhere else', async () => {
    const controller = new AbortController();
    const hook = pauseAtSteps({ command: 'deploy', signal: controller.signal }, 'built')!;
    assert.equal(hook({ type: 'step-started', step: 'build', detail: '' }), undefined);
    assert.equal(hook(finished('build', 'failed')), undefined, 'a failed build never reaches "built"');
    assert.equal(hook(finished('fetch', 'ok')), undefined);
    const paused = hook(finished('build', 'ok'));
    assert.ok(paused instanceof Promise);
    controller.abort();
    await paused;
  });

  test('"prune" is reached when the prune step starts or is skipped; "health" whatever its outcome', async () => {
    const controller = new AbortController();
    const prune = pauseAtSteps({ command: 'deploy', signal: controller.signal }, 'prune')!;
    const skipped = prune({ type: 'step-skipped', step: 'prune' });
    assert.ok(skipped instanceof Promise);
    const health = pauseAtSteps({ command: 'rollback', signal: controller.signal }, 'health')!;
    const unhealthy = health(finished('health', 'failed'));
    assert.ok(unhealthy instanceof Promise);
    controller.abort();
    await Promise.all([skipped, unhealthy]);
  });

  test('a point of another command, a point inside a step, or none set: no subscriber at all', () => {
    assert.equal(pauseAtSteps({ command: 'deploy' }, 'rollback-planned'), undefined);
    assert.equal(pauseAtSteps({ command: 'rollback' }, 'activated'), undefined);
    assert.equal(pauseAtSteps({ command: 'deploy' }, 'swap'), undefined);
    assert.equal(pauseAtSteps({ command: 'deploy' }, 'toString'), undefined);
    assert.equal(pauseAtSteps({ command: 'deploy' }, undefined), undefined);
  });
});
