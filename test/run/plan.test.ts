import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/config.ts';
import { composeDeployPlan, type DeployFacts, type LockCheck } from '../../src/run/plan.ts';
import type { Deployment } from '../../src/state/record.ts';
import { fingerprintCommands } from '../../src/steps/fingerprint.ts';

const NOW = 1_800_000_000_000;
const S = NOW / 1000;
const sha = (c: string) => c.repeat(40);
const COMMANDS = [['node', 'build.js']];

function configWith(extra = '') {
  return parseConfig(`[repo]\nurl = "http://127.0.0.1:1/app.git"\n[build]\ncommands = [["node", "build.js"]]\n[deploy]\nkeep = 2\n${extra}`, { file: '/app/mfd.toml' }).config;
}

function deployment(createdAt: number, c: string, state: Deployment['state'], fingerprint = fingerprintCommands(COMMANDS)): Deployment {
  const name = `mfd_${createdAt}_${sha(c)}`;
  if (state === 'adopted' || state === 'invalid') return { name, createdAt, sha: sha(c), state };
  return {
    name, createdAt, sha: sha(c), state,
    record: { name, sha: sha(c), ref: 'main', fingerprint, state, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' },
  };
}

const FREE: LockCheck = { name: 'app', file: '/app/.mfd-deploy.lock', state: 'free', owner: null, reason: null };

function facts(over: Partial<DeployFacts>): DeployFacts {
  return { ref: undefined, resolved: { sha: sha('e'), ref: 'refs/heads/main' }, deployments: [], active: undefined, locks: [FREE], disk: { free: 10, floor: 5 }, now: NOW, ...over };
}

describe('composeDeployPlan', () => {
  test('a new sha is built under the would-be name of this second, and the prune plan counts it as the newest', () => {
    const old = [deployment(S - 30, 'a', 'healthy'), deployment(S - 20, 'b', 'healthy'), deployment(S - 10, 'c', 'healthy'), deployment(S - 5, 'd', 'failed')];
    const plan = composeDeployPlan(facts({ deployments: old, active: old[2]!.name }), configWith());
    assert.equal(plan.action, 'build');
    assert.equal(plan.reuse, null);
    assert.equal(plan.active, `mfd_${S}_${sha('e')}`);
    assert.equal(plan.activeClaimed, false);
    assert.deepEqual(plan.commands, COMMANDS);
    assert.equal(plan.previous, old[2]!.name);
    // keep = 2: the new one and the previous (c) stay; the failed one and the older good ones go.
    assert.deepEqual(plan.prune, [old[3]!.name, old[1]!.name, old[0]!.name]);
    assert.deepEqual(plan.steps, ['resolve', 'fetch', 'checkout', 'build', 'activate', 'prune']);
    assert.deepEqual(plan.disk, { free: 10, floor: 5, ok: true, checked: true });
  });

  test('within one second the new build is the newest, as its record will date it: the prune plan keeps it and the newer elder', () => {
    // Three good ones of this very second (deploys a few milliseconds apart), recorded at +100, +200, +300 ms.
    const at = (ms: number, c: string): Deployment => {
      const d = deployment(S, c, 'healthy');
      return { ...d, record: { ...d.record!, createdAt: new Date(NOW + ms).toISOString() } };
    };
    const [a, b, c] = [at(100, 'a'), at(200, 'b'), at(300, 'c')];
    const plan = composeDeployPlan(facts({ deployments: [a, b, c], active: c.name, now: NOW + 400 }), configWith());
    // keep = 2: the new one and c (also the previous); a and b, the older two, go.
    assert.deepEqual(plan.prune, [b.name, a.name]);
  });

  test('a name taken this second moves the would-be name to the next second, as the claim does', () => {
    const same = deployment(S, 'e', 'failed');
    const plan = composeDeployPlan(facts({ deployments: [same] }), configWith());
    assert.equal(plan.active, `mfd_${S + 1}_${sha('e')}`);
    assert.deepEqual(plan.prune, [same.name]);
  });

  test('a good deployment of the sha built by the same commands is reused; another build of it or a failed one is not', () => {
    const otherCommands = deployment(S - 40, 'e', 'healthy', 'different');
    const failed = deployment(S - 30, 'e', 'failed');
    const good = deployment(S - 20, 'e', 'built');
    const plan = composeDeployPlan(facts({ deployments: [good, failed, otherCommands], active: good.name }), configWith('[systemd]\nunit = "app.service"\n[health]\ncommand = ["true"]\n'));
    assert.deepEqual([plan.action, plan.reuse, plan.active, plan.activeClaimed], ['reuse', good.name, good.name, true]);
    assert.deepEqual(plan.steps, ['resolve', 'activate', 'restart', 'health', 'prune']);
    assert.equal(plan.disk.checked, false);
    assert.deepEqual(composeDeployPlan(facts({ deployments: [failed, otherCommands] }), configWith()).action, 'build');
    // Go mfd's directories have no record: adopted as built by whatever built them.
    const adopted = deployment(S - 50, 'e', 'adopted');
    assert.equal(composeDeployPlan(facts({ deployments: [adopted] }), configWith()).reuse, adopted.name);
  });

  test('the lock is free when no lock is held by someone alive; a stale one would be taken over', () => {
    const stale: LockCheck = { ...FREE, state: 'stale', reason: 'its process 42 is gone' };
    const held: LockCheck = { ...FREE, name: 'host', state: 'held' };
    assert.equal(composeDeployPlan(facts({ locks: [stale] }), configWith()).lock.free, true);
    assert.equal(composeDeployPlan(facts({ locks: [stale, held] }), configWith()).lock.free, false);
  });

  test('free space below the floor is reported, not thrown', () => {
    assert.deepEqual(composeDeployPlan(facts({ disk: { free: 4, floor: 5 } }), configWith()).disk, { free: 4, floor: 5, ok: false, checked: true });
  });
});
