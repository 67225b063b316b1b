// A deploy executes its plan: the steps a real deploy's Run emitted (as its history line records
// them) are the steps `mfd deploy --dry-run` printed for the same situation just before it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appFixture, type AppFixture, BUILD_COMMANDS } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { requireSystemd } from '../helpers/systemd.ts';
import { deploy } from '../../src/run/deploy.ts';
import { planDeploy } from '../../src/run/plan.ts';
import { readHistory } from '../../src/state/history.ts';
import type { StepName } from '../../src/sys/events.ts';


/** Plans a deploy of `ref`, runs it, and returns both step lists. */
async function plannedAndRun(app: AppFixture, ref: string | undefined, env?: Record<string, string>): Promise<{ planned: StepName[]; ran: string[] }> {
  const planned = (await planDeploy((await testContext(app.root, env ? { env } : {})).ctx, ref)).steps;
  const run = await testContext(app.root, env ? { env } : {});
  const { logFile } = await deploy(run.ctx, ref);
  // By its log, not its place: two runs in one second may be listed in either order.
  const last = (await readHistory(run.ctx.layout)).find((e) => e.log === logFile)!;
  assert.equal(last.outcome, 'success');
  return { planned, ran: last.steps.map((s) => s.step) };
}

describe('a deploy executes its plan', () => {
  test('without a unit: a first build, a second, a reuse, and a build that prunes run the steps planned', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const first = await plannedAndRun(app, undefined);
    assert.deepEqual(first.planned, ['resolve', 'fetch', 'checkout', 'build', 'activate']);
    assert.deepEqual(first.ran, first.planned);

    await app.commitVersion(2);
    const second = await plannedAndRun(app, undefined);
    assert.deepEqual(second.ran, second.planned);

    const reuse = await plannedAndRun(app, one);
    assert.deepEqual(reuse.planned, ['resolve', 'activate']);
    assert.deepEqual(reuse.ran, reuse.planned);

    // keep = 3 (the default): a fourth and a fifth build leave one too many.
    await app.commitVersion(3);
    await plannedAndRun(app, undefined);
    await app.commitVersion(4);
    const pruning = await plannedAndRun(app, undefined);
    assert.deepEqual(pruning.planned, ['resolve', 'fetch', 'checkout', 'build', 'activate', 'prune']);
    assert.deepEqual(pruning.ran, pruning.planned);
  });

  test('with a [systemd] unit and a health check: the restart and the check run where the plan has them', async (t) => {
    const systemd = await requireSystemd(t);
    if (!systemd) return;
    const app = await appFixture(t);
    await systemd.installUnit('app', `[Service]\nWorkingDirectory=${app.root}/active\nExecStart=${process.execPath} -e "setInterval(() => {}, 1000)"\n`);
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\n${BUILD_COMMANDS}\n[systemd]\nunit = "app"\nscope = "user"\n[health]\ncommand = ["true"]\n`);
    const one = await app.commitVersion(1);
    const first = await plannedAndRun(app, undefined, systemd.env);
    assert.deepEqual(first.planned, ['resolve', 'fetch', 'checkout', 'build', 'activate', 'restart', 'health']);
    assert.deepEqual(first.ran, first.planned);
    await app.commitVersion(2);
    await plannedAndRun(app, undefined, systemd.env);
    const reuse = await plannedAndRun(app, one, systemd.env);
    assert.deepEqual(reuse.planned, ['resolve', 'activate', 'restart', 'health']);
    assert.deepEqual(reuse.ran, reuse.planned);
  });
});
