import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDeploymentName, parseDeploymentName, sortNewestFirst } from '../../src/state/deployment.ts';

const SHA = 'a'.repeat(40);

describe('deployment', () => {
  test('a Go mfd directory name parses into its time and sha and formats back identically', () => {
    const name = `mfd_1763800000_${SHA}`;
    assert.deepEqual(parseDeploymentName(name), { name, createdAt: 1763800000, sha: SHA });
    assert.equal(formatDeploymentName(1763800000.9, SHA), name);
  });

  test('names that are not deployments are rejected', () => {
    for (const name of ['active', 'mfd.toml', `mfd_x_${SHA}`, `mfd_1_${SHA.slice(1)}`, `mfd_1_${SHA}_x`, `mfd_1_${'G'.repeat(40)}`]) {
      assert.equal(parseDeploymentName(name), undefined, name);
    }
  });

  test('deployments sort newest first, ties broken by name so the order is stable', () => {
    const a = parseDeploymentName(`mfd_100_${'a'.repeat(40)}`)!;
    const b = parseDeploymentName(`mfd_200_${'b'.repeat(40)}`)!;
    const c = parseDeploymentName(`mfd_200_${'c'.repeat(40)}`)!;
    assert.deepEqual(sortNewestFirst([a, b, c]).map((d) => d.name), [c.name, b.name, a.name]);
  });
});
