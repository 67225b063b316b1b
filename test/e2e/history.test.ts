import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appFixture } from '../helpers/app.ts';
import { mfd } from '../helpers/cli.ts';

describe('history, logs and status (e2e)', () => {
  test('every run is recorded with its steps and outcome, its log can be read back, and status sums it up', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const two = await app.commitVersion(2);
    assert.equal((await mfd(['deploy', one], { cwd: app.root, env: { USER: 'erin' } })).code, 0);
    await app.commitVersion(3, { fail: true });
    assert.equal((await mfd(['deploy'], { cwd: app.root })).code, 5);
    assert.equal((await mfd(['deploy', two], { cwd: app.root })).code, 0);
    assert.equal((await mfd(['rollback'], { cwd: app.root })).code, 0);

    const history = JSON.parse((await mfd(['history', '--json'], { cwd: app.root })).stdout);
    assert.deepEqual(history.map((h: { command: string; outcome: string }) => `${h.command}:${h.outcome}`), [
      'rollback:success', 'deploy:success', 'deploy:failed', 'deploy:success',
    ]);
    const [rb, second, failed, first] = history;
    assert.equal(first.user, 'erin');
    assert.equal(first.sha, one);
    assert.deepEqual(first.steps.map((s: { step: string }) => s.step), ['resolve', 'fetch', 'checkout', 'build', 'activate']);
    assert.ok(first.steps.every((s: { ms: number; ok: boolean }) => s.ok && s.ms >= 0));
    assert.equal(failed.error.code, 'BUILD_FAILED');
    assert.match(failed.error.message, /exit status 3/);
    assert.equal(second.sha, two);
    assert.equal(rb.sha, one);
    assert.ok(Date.parse(first.end) >= Date.parse(first.start));

    const human = await mfd(['history'], { cwd: app.root });
    assert.match(human.stdout.split('\n')[2]!, /deploy +failed [\d.]+s +BUILD_FAILED: build command/);

    const last = await mfd(['logs'], { cwd: app.root });
    assert.match(last.stdout, /rolled back to/);
    const failedLog = await mfd(['logs', failed.runId], { cwd: app.root });
    assert.match(failedLog.stdout, /compiling\.\.\.\nerror: the build broke/);
    assert.match(failedLog.stdout, /error: build command/);
    assert.equal((await mfd(['logs', 'nope'], { cwd: app.root })).code, 8);

    const status = await mfd(['status'], { cwd: app.root });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^active: +${one} \\(mfd_\\d+_${one}\\)$`, 'm'));
    assert.match(status.stdout, /^since: +\d{4}-.*ago\)$/m);
    assert.match(status.stdout, /^last run: rollback → success/m);
    assert.match(status.stdout, /^lock: +free$/m);
    const json = JSON.parse((await mfd(['status', '--json'], { cwd: app.root })).stdout);
    assert.equal(json.active.sha, one);
    assert.equal(json.lastRun.command, 'rollback');
    assert.equal(json.lock, null);
  });
});
