// run/rollback.ts in-process: what a rollback writes about the deployment it leaves. Choosing the
// target is test/steps/rollback-plan.test.ts; following history is test/run/deploy.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { LIST } from '../../src/commands/list.ts';
import { STATUS } from '../../src/commands/status.ts';
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

  test('an active that points outside the app root is no deployment of it: shown as such, replaced, and nothing is labelled', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const two = await app.commitVersion(2);
    await deploy((await testContext(app.root)).ctx, one);
    await deploy((await testContext(app.root)).ctx, two);
    // Another app root holding a copy of this one's newest deployment, under the same name.
    const name = await readlink(join(app.root, 'active'));
    const other = join(dirname(app.root), 'other');
    await cp(join(app.root, name), join(other, name), { recursive: true });
    await rm(join(app.root, 'active'));
    await symlink(`../other/${name}`, join(app.root, 'active'));
    const warning = new RegExp(`warning: active points at "\\.\\./other/${name}", which is not a deployment of this app root`);

    const ls = await testContext(app.root);
    await LIST.run(ls.ctx, [], {});
    assert.equal(ls.stdout(), `${two}\n${one}\n`, 'no deployment of this root is active');
    assert.match(ls.stderr(), warning);
    const status = await testContext(app.root);
    await STATUS.run(status.ctx, [], {});
    assert.match(status.stdout(), /^active: +none: the link points at no deployment of this app root/m);
    assert.match(status.stderr(), warning);

    const back = await testContext(app.root);
    const result = await rollback(back.ctx, one);
    assert.equal(result.from, undefined);
    assert.match(back.stderr(), warning);
    assert.equal(await readlink(join(app.root, 'active')), (await readdir(app.root)).find((n) => n.includes(one)));
    // What was running is not this root's deployment of that name: that one is not rolled back, nor its commit quarantined.
    const record = JSON.parse(await readFile(join(app.root, '.mfd', 'deployments', `${name}.json`), 'utf8')) as DeploymentRecord;
    assert.equal(record.state, 'built');
    assert.equal(await readFile(join(app.root, '.mfd', 'quarantine.json'), 'utf8').catch(() => 'none'), 'none');
    assert.deepEqual(await readdir(other), [name], 'what active pointed at is left alone');
  });
});
