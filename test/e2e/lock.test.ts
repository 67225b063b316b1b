import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { commitHold, exists, holdConfig, until } from '../helpers/hold.ts';
import { mfd, startMfd, waitForOutput } from '../helpers/cli.ts';
import { tmpRoot } from '../helpers/repo.ts';

const config = holdConfig;
const commit = commitHold;

// Multi-process races, heartbeats, kill -9 and holders in other processes; the lock policy's
// other behaviour runs in-process in test/lock/policy.test.ts.
describe('deployment locks (e2e)', () => {
  test('of 20 deploys started at once exactly one deploys; the others exit 3 naming the holder', async (t) => {
    const app = await appFixture(t, { config: (url) => config(url) });
    await commit(app, 1);
    const gate = join(app.root, '..', 'gate');
    const started = join(app.root, '..', 'started');
    const env = { T_WAIT_FOR: gate, T_STARTED: started };
    const runs = Array.from({ length: 20 }, () => startMfd(['deploy'], { cwd: app.root, env }));
    // The winner's build holds until every loser has exited, so nobody can deploy after it.
    await until(() => exists(started), 'one build to start');
    const results: { code: number | null; stderr: string }[] = [];
    const losers = runs.map((r) => r.done.then((res) => results.push(res)));
    await until(async () => results.length === 19, '19 deploys to be refused');
    await writeFile(gate, 'go');
    await Promise.all(losers);
    const codes = results.map((r) => r.code).sort();
    assert.deepEqual(codes, [0, ...Array(19).fill(3)]);
    for (const r of results.filter((x) => x.code === 3)) {
      assert.match(r.stderr, /error: deploy lock held by .*@.* \(pid \d+, "mfd deploy"\) since .* \(\d+s ago\)/);
      assert.match(r.stderr, /hint: wait for it with --wait; .*mfd unlock app.*rm .*\.mfd-deploy\.lock/);
    }
    const ls = await mfd(['ls'], { cwd: app.root });
    assert.match(ls.stdout, /^[0-9a-f]{40} \(active\)\n$/);
    assert.equal(await exists(join(app.root, '.mfd-deploy.lock')), false);
  });

  test('a build longer than the stale limit keeps its lock through the heartbeat', async (t) => {
    const app = await appFixture(t, { config: (url) => config(url, 'stale = "1s"') });
    await commit(app, 1);
    const gate = join(app.root, '..', 'gate');
    const started = join(app.root, '..', 'started');
    const first = startMfd(['deploy'], { cwd: app.root, env: { T_WAIT_FOR: gate, T_STARTED: started } });
    await until(() => exists(started), 'the build to start');
    const takenAt = JSON.parse(await readFile(join(app.root, '.mfd-deploy.lock'), 'utf8')).timestamp as number;
    // Let three stale periods pass while the build runs.
    await until(async () => Date.now() - takenAt > 3000, 'three stale periods');
    const second = await mfd(['deploy'], { cwd: app.root });
    assert.equal(second.code, 3, second.stderr);
    await writeFile(gate, 'go');
    assert.equal((await first.done).code, 0);
  });

  test('a deploy alive on this host keeps its lock whatever its heartbeat\'s age (a clock jumped ahead): the next one exits 3', async (t) => {
    // A heartbeat only every 4.8 h: nothing refreshes the lock while the test looks at it.
    const app = await appFixture(t, { config: (url) => config(url, 'stale = "24h"') });
    await commit(app, 1);
    const gate = join(app.root, '..', 'gate');
    const started = join(app.root, '..', 'started');
    const first = startMfd(['deploy'], { cwd: app.root, env: { T_WAIT_FOR: gate, T_STARTED: started } });
    t.after(() => first.child.kill('SIGKILL'));
    await until(() => exists(started), 'the build to start');
    // What every other process sees after the clock stepped 25 h ahead (NTP, a VM resumed) since
    // the last heartbeat, or after the holder was stopped (Ctrl-Z) as long: a heartbeat that old.
    const lockFile = join(app.root, '.mfd-deploy.lock');
    const before = new Date(Date.now() - 25 * 3600_000);
    await utimes(lockFile, before, before);
    const second = await mfd(['deploy'], { cwd: app.root });
    assert.equal(second.code, 3, `a second deploy ran beside the live one:\n${second.stderr}`);
    assert.match(second.stderr, new RegExp(`error: deploy lock held by .* \\(pid ${first.child.pid}, "mfd deploy"\\)`));
    assert.doesNotMatch(second.stderr, /Found stale lock file/);
    assert.equal(JSON.parse(await readFile(lockFile, 'utf8')).pid, first.child.pid, 'the live holder still holds it');
    await writeFile(gate, 'go');
    assert.equal((await first.done).code, 0);
  });

  test('after a deploy is killed, the next one takes the lock over at once with a warning', async (t) => {
    const app = await appFixture(t, { config: (url) => config(url) });
    await commit(app, 1);
    const run = startMfd(['deploy'], { cwd: app.root, env: { MFD_TEST_PAUSE_AT: 'checkout' } });
    await waitForOutput(run, 'mfd-test-paused-at:checkout');
    run.child.kill('SIGKILL');
    await run.done;
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: Found stale lock file, removing\.\.\. .*process \d+ is gone/);
  });

  test('mfd lock list shows the holder; mfd unlock refuses a live one unless --force; the deploy still finishes', async (t) => {
    const lockDir = await tmpRoot(t);
    const app = await appFixture(t, { config: (url) => config(url, `dir = "${lockDir}"\nresources = ["db"]`) });
    await commit(app, 1);
    const gate = join(app.root, '..', 'gate');
    const started = join(app.root, '..', 'started');
    const run = startMfd(['deploy'], { cwd: app.root, env: { T_WAIT_FOR: gate, T_STARTED: started, USER: 'dora' } });
    await until(() => exists(started), 'the build to start');

    const list = await mfd(['lock', 'list', '--json'], { cwd: app.root });
    assert.equal(list.code, 0, list.stderr);
    const locks = JSON.parse(list.stdout);
    assert.deepEqual(locks.map((l: { name: string }) => l.name), ['app', 'resource:db']);
    assert.equal(locks[0].owner.pid, run.child.pid);
    assert.equal(locks[0].owner.user, 'dora');
    assert.equal(locks[0].owner.command, 'deploy');
    assert.equal(locks[0].alive, true);
    assert.equal(locks[0].stale, null);
    const human = await mfd(['lock', 'list'], { cwd: app.root });
    assert.match(human.stdout, new RegExp(`^app +dora@.* pid ${run.child.pid} "mfd deploy" since .* \\[held, alive\\]`, 'm'));

    const refused = await mfd(['unlock'], { cwd: app.root });
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /error: the app lock is held by a live process: dora@.*\n  hint: .*mfd unlock app --force/);
    const forced = await mfd(['unlock', '--force'], { cwd: app.root });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(await exists(join(app.root, '.mfd-deploy.lock')), false);

    await writeFile(gate, 'go');
    const done = await run.done;
    assert.equal(done.code, 0, 'a lock removed by hand does not break the running deploy');
    assert.deepEqual(JSON.parse((await mfd(['lock', 'list', '--json'], { cwd: app.root })).stdout), []);
  });
});
