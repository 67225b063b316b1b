// cd/loop.ts: the loop's scheduling (one run at a time, a burst collapses into one more run, stop
// waits for the run) with real deploys of a real app against the real git server as its body.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { deploy } from '../../src/run/deploy.ts';
import { DeployLoop } from '../../src/cd/loop.ts';

describe('cd/loop', () => {
  test('a poke runs the body once, and idle() resolves when it is done', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const triggers: string[] = [];
    const loop = new DeployLoop({
      body: async (trigger) => {
        triggers.push(trigger.kind);
        const result = await deploy((await testContext(app.root)).ctx, undefined);
        return { outcome: 'success', sha: result.sha, at: Date.now(), error: null };
      },
      onCrash: (error) => assert.fail(String(error)),
      now: () => Date.now(),
    });
    assert.equal(loop.lastRun(), undefined);
    loop.poke({ kind: 'manual' });
    await loop.idle();
    assert.deepEqual(triggers, ['manual']);
    assert.match(await readlink(join(app.root, 'active')), new RegExp(one));
    assert.equal(loop.lastRun()?.sha, one);
    await loop.stop(1000);
  });
});
