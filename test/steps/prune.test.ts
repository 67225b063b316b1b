import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { planPrune } from '../../src/steps/prune.ts';
import { orderNewestFirst, type Deployment, type DeploymentRecord } from '../../src/state/record.ts';

/** The tests' "now": well after every name below except the future ones. */
const NOW = 1_800_000_000_000;
const FUTURE = 4_000_000_000; // unix seconds, in 2096

function dep(createdAt: number, state: Deployment['state']): Deployment {
  const sha = createdAt.toString(16).padStart(40, '0');
  return { name: `mfd_${createdAt}_${sha}`, createdAt, sha, state };
}

describe('prune plan', () => {
  test('keeps the newest three good deployments and removes older good ones', () => {
    const list = [dep(5, 'built'), dep(4, 'built'), dep(3, 'adopted'), dep(2, 'built'), dep(1, 'built')];
    const plan = planPrune(list, { active: list[0]!.name, previous: list[1]!.name, keep: 3, now: NOW });
    assert.deepEqual(plan.remove.map((d) => d.createdAt), [2, 1]);
  });

  test('never removes the active nor the previous deployment, even when they are old', () => {
    const list = [dep(5, 'built'), dep(4, 'built'), dep(3, 'built'), dep(2, 'built'), dep(1, 'built')];
    const plan = planPrune(list, { active: list[4]!.name, previous: list[3]!.name, keep: 1, now: NOW });
    assert.deepEqual(plan.remove.map((d) => d.createdAt), [4, 3]);
  });

  test('removes failed and rolled-back leftovers first and never a build in progress', () => {
    const list = [dep(6, 'building'), dep(5, 'built'), dep(4, 'failed'), dep(3, 'rolled-back'), dep(2, 'built')];
    const plan = planPrune(list, { active: list[1]!.name, previous: undefined, keep: 3, now: NOW });
    assert.deepEqual(plan.remove.map((d) => d.createdAt), [4, 3]);
  });

  test('never removes a directory whose record could not be trusted', () => {
    const list = [dep(6, 'invalid'), dep(5, 'built'), dep(4, 'failed')];
    const plan = planPrune(list, { active: list[1]!.name, previous: undefined, keep: 1, now: NOW });
    assert.deepEqual(plan.remove.map((d) => d.createdAt), [4]);
  });

  test('failed deployments do not count toward keep', () => {
    const list = [dep(5, 'failed'), dep(4, 'failed'), dep(3, 'built'), dep(2, 'built'), dep(1, 'built')];
    const plan = planPrune(list, { active: list[2]!.name, previous: undefined, keep: 3, now: NOW });
    assert.deepEqual(plan.remove.map((d) => d.createdAt), [5, 4]);
  });

  test('a deployment named with a future time is ordered as the oldest, so it never pins keep and is pruned first', () => {
    const future = dep(FUTURE, 'adopted');
    const list = [future, dep(5, 'built'), dep(4, 'built'), dep(3, 'built'), dep(2, 'built')];
    assert.deepEqual(orderNewestFirst(list, NOW).map((d) => d.createdAt), [5, 4, 3, 2, FUTURE]);
    const plan = planPrune(list, { active: list[1]!.name, previous: list[2]!.name, keep: 3, now: NOW });
    assert.deepEqual(plan.remove.map((d) => d.createdAt), [2, FUTURE]);
    // With room under keep it stays, and it is never removed while active or previous.
    assert.deepEqual(planPrune([future, dep(5, 'built')], { active: list[1]!.name, previous: undefined, keep: 3, now: NOW }).remove, []);
    assert.deepEqual(planPrune(list, { active: future.name, previous: list[1]!.name, keep: 1, now: NOW }).remove.map((d) => d.createdAt), [4, 3, 2]);
  });

  test("a record's creation time orders a deployment, and a record written under a clock set wrong counts as oldest too", () => {
    const record = (d: Deployment, createdAt: string): Deployment => ({ ...d, record: { createdAt } as DeploymentRecord });
    // Same second in the name: the record's milliseconds decide.
    const a = record(dep(10, 'built'), new Date(10_200).toISOString());
    const b = record({ ...dep(10, 'built'), name: `mfd_10_${'f'.repeat(40)}` }, new Date(10_700).toISOString());
    assert.deepEqual(orderNewestFirst([a, b], NOW).map((d) => d.name), [b.name, a.name]);
    const wrongClock = record(dep(9, 'built'), new Date(FUTURE * 1000).toISOString());
    assert.deepEqual(orderNewestFirst([wrongClock, a, dep(8, 'built')], NOW).map((d) => d.createdAt), [10, 8, 9]);
    // A few minutes ahead is clock skew between hosts, not a wrong clock: still the newest.
    const skewed = dep(NOW / 1000 + 60, 'built');
    assert.equal(orderNewestFirst([a, skewed], NOW)[0], skewed);
  });
});
