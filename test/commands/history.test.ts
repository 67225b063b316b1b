// history, logs and status on the runs that deploy and rollback record, all in-process: the
// real run/ code and the real commands on test Contexts. test/e2e/history.test.ts keeps the
// commands run as processes (and a holder in another process).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { HISTORY, LOGS } from '../../src/commands/history.ts';
import { STATUS } from '../../src/commands/status.ts';
import type { Command } from '../../src/commands/command.ts';
import { deploy } from '../../src/run/deploy.ts';
import { rollback } from '../../src/run/rollback.ts';
import { BuildFailedError, DeploymentNotFoundError, FsLayoutError } from '../../src/errors/index.ts';

/** A command's stdout, as a user of `mfd <command> [--json]` would read it. */
async function output(root: string, command: Command, args: string[] = [], json = false): Promise<string> {
  const run = await testContext(root, { json });
  await command.run(run.ctx, args, {});
  return run.stdout();
}

describe('history, logs and status (in-process)', () => {
  test('every run is recorded with its steps and outcome, its log can be read back, and status sums it up', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const two = await app.commitVersion(2);
    const firstRun = await testContext(app.root, { env: { USER: 'erin' } });
    await deploy(firstRun.ctx, one);
    await app.commitVersion(3, { fail: true });
    await assert.rejects(deploy((await testContext(app.root)).ctx, undefined), BuildFailedError);
    await deploy((await testContext(app.root)).ctx, two);
    await rollback((await testContext(app.root)).ctx, undefined);

    const history = JSON.parse(await output(app.root, HISTORY, [], true));
    assert.deepEqual(history.map((h: { command: string; outcome: string }) => `${h.command}:${h.outcome}`), [
      'rollback:success', 'deploy:success', 'deploy:failed', 'deploy:success',
    ]);
    const [rb, second, failed, first] = history;
    assert.equal(first.user, 'erin', 'the user comes from the Context');
    assert.equal(firstRun.ctx.identity.user, 'erin');
    assert.equal(first.sha, one);
    assert.deepEqual(first.steps.map((s: { step: string }) => s.step), ['resolve', 'fetch', 'checkout', 'build', 'activate']);
    assert.ok(first.steps.every((s: { ms: number; ok: boolean }) => s.ok && s.ms >= 0));
    assert.equal(failed.error.code, 'BUILD_FAILED');
    assert.match(failed.error.message, /exit status 3/);
    assert.equal(second.sha, two);
    assert.equal(rb.sha, one);
    assert.ok(Date.parse(first.end) >= Date.parse(first.start));
    const lines = (await output(app.root, HISTORY)).split('\n');
    assert.match(lines[2]!, /deploy +failed [\d.]+s +BUILD_FAILED: build command/);
    assert.match(lines[3]!, / success [\d.]+s +\(by erin, manual\)$/, 'who and what started each run');

    assert.match(await output(app.root, LOGS), /rolled back to/);
    const failedLog = await output(app.root, LOGS, [failed.runId]);
    assert.match(failedLog, /compiling\.\.\.\nerror: the build broke/);
    assert.match(failedLog, /error: build command/);
    const missing = await LOGS.run((await testContext(app.root)).ctx, ['nope'], {}).catch((e: unknown) => e);
    assert.ok(missing instanceof DeploymentNotFoundError, String(missing));
    assert.equal(missing.exitCode, 8);

    const status = await output(app.root, STATUS);
    assert.match(status, new RegExp(`^active: +${one} \\(mfd_\\d+_${one}\\)$`, 'm'));
    assert.match(status, /^since: +\d{4}-.*ago\)$/m);
    assert.match(status, /^last run: rollback → success/m);
    assert.match(status, /^lock: +free$/m);
    const json = JSON.parse(await output(app.root, STATUS, [], true));
    assert.equal(json.active.sha, one);
    assert.equal(json.lastRun.command, 'rollback');
    assert.equal(json.lock, null);
  });

  test('mfd logs <id> of a run shows that run, not a later one of the same second whose id it prefixes', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const at = Date.parse('2026-11-23T12:00:00Z');
    await app.commitVersion(2, { fail: true });
    await assert.rejects(deploy((await testContext(app.root, { now: () => at })).ctx, undefined), BuildFailedError);
    await deploy((await testContext(app.root, { now: () => at })).ctx, one);
    const [later, failed] = JSON.parse(await output(app.root, HISTORY, [], true));
    assert.equal(later.runId, `${failed.runId}-2`);
    assert.match(await output(app.root, LOGS, [failed.runId]), /error: the build broke/);
    assert.match(await output(app.root, LOGS, [later.runId]), /deployed /);
  });

  test('mfd logs of a run that is not in the history points at mfd history, not at deployments to roll back to', async (t) => {
    const app = await appFixture(t);
    const none = await LOGS.run((await testContext(app.root)).ctx, [], {}).catch((e: unknown) => e);
    assert.ok(none instanceof DeploymentNotFoundError, String(none));
    assert.equal(none.message, 'no run log found: the last run');
    assert.match(none.hint!, /mfd history/);
    assert.doesNotMatch(none.hint!, /roll back/);
    await deploy((await testContext(app.root)).ctx, await app.commitVersion(1));
    const typo = await LOGS.run((await testContext(app.root)).ctx, ['nope'], {}).catch((e: unknown) => e);
    assert.ok(typo instanceof DeploymentNotFoundError, String(typo));
    assert.equal(typo.message, 'no run log found: nope');
    assert.match(typo.hint!, /"mfd history" lists the run ids/);
    // The log of a run in the history that is gone: the same pointer, as no other log is that one.
    const [run] = JSON.parse(await output(app.root, HISTORY, [], true));
    await rm(join(app.root, '.mfd', 'logs', `${run.runId}.log`));
    const gone = await LOGS.run((await testContext(app.root)).ctx, [run.runId], {}).catch((e: unknown) => e);
    assert.ok(gone instanceof DeploymentNotFoundError, String(gone));
    assert.match(gone.message, /^the log of this run was pruned with its deployment: /);
    assert.doesNotMatch(gone.hint!, /roll back/);
  });

  test('mfd logs shows the build\'s own output as the terminal did, colour and carriage returns untouched', async (t) => {
    const app = await appFixture(t);
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = [["sh", "-c", "printf '\\\\033[32mgreen\\\\033[0m 10%%\\\\r100%%\\\\n'"]]\n`);
    await deploy((await testContext(app.root)).ctx, await app.commitVersion(1));
    assert.match(await output(app.root, LOGS), /\u001b\[32mgreen\u001b\[0m 10%\r100%\n/);
  });

  test('mfd logs never reads through a link in .mfd/logs, and says what is in the way', async (t) => {
    const app = await appFixture(t);
    await deploy((await testContext(app.root)).ctx, await app.commitVersion(1));
    const [run] = JSON.parse(await output(app.root, HISTORY, [], true));
    const log = join(app.root, '.mfd', 'logs', `${run.runId}.log`);
    // A file outside the app root that whoever could write .mfd/logs wants printed by the one running mfd.
    const outside = join(app.root, '..', 'not-a-log');
    await writeFile(outside, 'TOP SECRET\n');
    await rm(log);
    await symlink(outside, log);
    const view = await testContext(app.root);
    const err = await LOGS.run(view.ctx, [run.runId], {}).catch((e: unknown) => e);
    assert.ok(err instanceof FsLayoutError, String(err));
    assert.equal(err.exitCode, 10);
    assert.match(err.message, /^cannot open .*\.log: it is a symbolic link/);
    assert.doesNotMatch(view.stdout(), /TOP SECRET/);
  });
});
