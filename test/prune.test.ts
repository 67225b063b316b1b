import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { planPrune } from '../src/prune.ts';
import type { Deployment } from '../src/record.ts';

function dep(createdAt: number, state: Deployment['state']): Deployment {
  const sha = createdAt.toString(16).padStart(40, '0');
  return { name: `mfd_${createdAt}_${sha}`, createdAt, sha, state };
}

describe('prune plan', () => {
  test('keeps the newest three good deployments and removes older good ones', () => {
    const list = [dep(5, 'built'), dep(4, 'built'), dep(3, 'adopted'), dep(2, 'built'), dep(1, 'built')];
    const plan = planPrune(list, { active: list[0]!.name, previous: list[1]!.name, keep: 3 });
    assert.deepEqual(plan.remove.map((d) => d.createdAt), [2, 1]);
  });

  test('never removes the active nor the previous deployment, even when they are old', () => {
    const list = [dep(5, 'built'), dep(4, 'built'), dep(3, 'built'), dep(2, 'built'), dep(1, 'built')];
    const plan = planPrune(list, { active: list[4]!.name, previous: list[3]!.name, keep: 1 });
    assert.deepEqual(plan.remove.map((d) => d.createdAt), [4, 3]);
  });

  test('removes failed and rolled-back leftovers first and never a build in progress', () => {
    const list = [dep(6, 'building'), dep(5, 'built'), dep(4, 'failed'), dep(3, 'rolled-back'), dep(2, 'built')];
    const plan = planPrune(list, { active: list[1]!.name, previous: undefined, keep: 3 });
    assert.deepEqual(plan.remove.map((d) => d.createdAt), [4, 3]);
  });

  test('never removes a directory whose record could not be trusted', () => {
    const list = [dep(6, 'invalid'), dep(5, 'built'), dep(4, 'failed')];
    const plan = planPrune(list, { active: list[1]!.name, previous: undefined, keep: 1 });
    assert.deepEqual(plan.remove.map((d) => d.createdAt), [4]);
  });

  test('failed deployments do not count toward keep', () => {
    const list = [dep(5, 'failed'), dep(4, 'failed'), dep(3, 'built'), dep(2, 'built'), dep(1, 'built')];
    const plan = planPrune(list, { active: list[2]!.name, previous: undefined, keep: 3 });
    assert.deepEqual(plan.remove.map((d) => d.createdAt), [5, 4]);
  });
});
