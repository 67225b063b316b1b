import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { planRollback } from '../../src/steps/rollback-plan.ts';
import type { Activation, Deployment } from '../../src/state/record.ts';

function dep(createdAt: number, state: Deployment['state'], sha = createdAt.toString(16).padStart(40, '0')): Deployment {
  return { name: `mfd_${createdAt}_${sha}`, createdAt, sha, state };
}
const act = (d: Deployment): Activation => ({ name: d.name, sha: d.sha, at: '', command: 'deploy' });

describe('rollback plan', () => {
  test('picks the deployment active before the current one by history, not by age', () => {
    const [a, b, c] = [dep(1, 'built'), dep(2, 'built'), dep(3, 'built')];
    // c deployed, then a redeployed (reused): the previous one is c, although b is newer than a.
    assert.equal(planRollback([c, b, a], [act(a), act(b), act(c), act(a)], a.name).name, c.name);
  });

  test('skips failed and rolled-back deployments', () => {
    const [a, b, c] = [dep(1, 'built'), dep(2, 'failed'), dep(3, 'built')];
    const d = dep(4, 'rolled-back');
    assert.equal(planRollback([d, c, b, a], [act(a), act(b), act(d), act(c)], c.name).name, a.name);
  });

  test('falls back to the next older good directory for Go mfd deployments without history', () => {
    const [a, b, c] = [dep(1, 'adopted'), dep(2, 'adopted'), dep(3, 'adopted')];
    assert.equal(planRollback([c, b, a], [], b.name).name, a.name);
  });

  test('with nothing before the active deployment it says there is nothing to roll back to', () => {
    const a = dep(1, 'built');
    assert.throws(() => planRollback([a], [act(a)], a.name), { code: 'ROLLBACK_UNAVAILABLE' });
  });

  test('a named target matches a full or short sha of a good deployment', () => {
    const [a, b] = [dep(1, 'built', `abcd${'0'.repeat(36)}`), dep(2, 'built', `ef01${'0'.repeat(36)}`)];
    assert.equal(planRollback([b, a], [act(a), act(b)], b.name, 'abcd').name, a.name);
    assert.equal(planRollback([b, a], [act(a), act(b)], b.name, a.sha).name, a.name);
  });

  test('a named target that is failed, unknown, malformed or already active is refused', () => {
    const a = dep(1, 'failed', `1234${'1'.repeat(36)}`);
    const b = dep(2, 'built', `abce${'0'.repeat(36)}`);
    const c = dep(3, 'built', `abcf${'0'.repeat(36)}`);
    assert.throws(() => planRollback([c, b, a], [], c.name, '1234'), { code: 'DEPLOYMENT_NOT_FOUND', message: /failed/ });
    assert.throws(() => planRollback([c, b, a], [], c.name, '9999'), { code: 'DEPLOYMENT_NOT_FOUND' });
    assert.throws(() => planRollback([c, b, a], [], c.name, 'abc'), { code: 'DEPLOYMENT_NOT_FOUND' });
    assert.throws(() => planRollback([c, b, a], [], c.name, 'abcf'), { code: 'ROLLBACK_UNAVAILABLE', message: /already active/ });
  });

  test('a short sha that matches two good deployments is ambiguous and lists both', () => {
    const b = dep(2, 'built', `abcd${'0'.repeat(36)}`);
    const c = dep(3, 'built', `abcd${'1'.repeat(36)}`);
    const d = dep(4, 'built');
    assert.throws(() => planRollback([d, c, b], [], d.name, 'abcd'), (e: Error) => {
      assert.equal((e as { code?: string }).code, 'REF_AMBIGUOUS');
      assert.match(e.message, new RegExp(`${b.sha}.*${c.sha}|${c.sha}.*${b.sha}`));
      return true;
    });
  });

  test('a short sha that matches a good deployment and a failed one is ambiguous, each candidate with its state', () => {
    const good = dep(2, 'healthy', `abcd${'0'.repeat(36)}`);
    const failed = dep(3, 'failed', `abcd${'1'.repeat(36)}`);
    const active = dep(4, 'built');
    assert.throws(() => planRollback([active, failed, good], [], active.name, 'abcd'), (e: Error) => {
      assert.equal((e as { code?: string }).code, 'REF_AMBIGUOUS');
      assert.match(e.message, /^short sha "abcd" is ambiguous: /);
      assert.ok(e.message.includes(`${good.sha} (healthy)`) && e.message.includes(`${failed.sha} (failed)`), e.message);
      assert.match((e as { hint?: string }).hint ?? '', /more hex digits/);
      return true;
    });
    // The full sha of either is not ambiguous: the good one is the target, the failed one refused.
    assert.equal(planRollback([active, failed, good], [], active.name, good.sha).name, good.name);
    assert.throws(() => planRollback([active, failed, good], [], active.name, failed.sha), { code: 'DEPLOYMENT_NOT_FOUND', message: /failed, not good/ });
  });

  test('a short sha of one commit built twice, once failed, picks its good build', () => {
    const sha = `abcd${'0'.repeat(36)}`;
    const [failed, good, active] = [dep(3, 'failed', sha), dep(2, 'built', sha), dep(4, 'built')];
    assert.equal(planRollback([active, failed, good], [], active.name, 'abcd').name, good.name);
  });
});
