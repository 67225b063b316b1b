// run/rollback.ts in-process: what a rollback writes about the deployment it leaves. Choosing the
// target is test/steps/rollback-plan.test.ts; following history is test/run/deploy.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { LIST } from '../../src/commands/list.ts';
import { deploy } from '../../src/run/deploy.ts';
import { rollback } from '../../src/run/rollback.ts';
import { writeRecord, type DeploymentRecord } from '../../src/state/record.ts';

describe('rollback (in-process)', () => {
  test('a rollback away from a failed active deployment leaves it labelled failed, with its error', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const two = await app.commitVersion(2);
    await deploy((await testContext(app.root)).ctx, one);
    await deploy((await testContext(app.root)).ctx, two);
    // What a deploy whose restart failed, with nothing to roll back to, leaves: active on a failed one.
    const left = await readlink(join(app.root, 'active'));
    const file = join(app.root, '.mfd', 'deployments', `${left}.json`);
    const record = JSON.parse(await readFile(file, 'utf8')) as DeploymentRecord;
    const error = 'restart failed: systemctl restart app.service exited 1';
    const { ctx } = await testContext(app.root);
    await writeRecord(ctx.layout, { ...record, state: 'failed', error });

    const back = await rollback((await testContext(app.root)).ctx, undefined);
    assert.equal(back.sha, one);
    const after = JSON.parse(await readFile(file, 'utf8')) as DeploymentRecord;
    assert.deepEqual([after.state, after.error], ['failed', error]);
    const ls = await testContext(app.root);
    await LIST.run(ls.ctx, [], {});
    assert.equal(ls.stdout(), `${two} (failed)\n${one} (active)\n`);
  });
});
