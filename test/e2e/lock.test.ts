import { describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import assert from 'node:assert/strict';
import { access, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { mfd, startMfd, waitForOutput } from '../helpers/cli.ts';
import { tmpRoot } from '../helpers/repo.ts';

// A build step driven by the environment: appends start/end marks, can signal that it started,
// wait for a file to appear, and hold for a while. Lets tests prove (non-)overlap by events.
const HOLD_JS = `
const fs = require('fs');
const e = process.env;
const tag = e.T_TAG || String(process.pid);
if (e.T_MARKS) fs.appendFileSync(e.T_MARKS, 'start ' + tag + '\\n');
if (e.T_STARTED) fs.writeFileSync(e.T_STARTED, tag);
const end = Date.now() + 60000;
(function loop() {
  if (e.T_WAIT_FOR && !fs.existsSync(e.T_WAIT_FOR)) {
    if (Date.now() > end) { console.error('gave up waiting for ' + e.T_WAIT_FOR); process.exit(9); }
    return setTimeout(loop, 10);
  }
  setTimeout(() => {
    if (e.T_MARKS) fs.appendFileSync(e.T_MARKS, 'end ' + tag + '\\n');
    fs.writeFileSync('build-info.json', JSON.stringify({ commit: e.MFD_COMMIT }));
  }, Number(e.T_HOLD_MS || 0));
})();
`;
const node = JSON.stringify(process.execPath);
const config = (url: string, lock = '') => `[repo]\nurl = "${url}"\n\n[build]\ncommands = [[${node}, "hold.js"]]\n\n[lock]\n${lock}\n`;
const commit = (app: AppFixture, n: number) => app.commitVersion(n, { extra: { 'hold.js': HOLD_JS } });
const exists = (p: string) => access(p).then(() => true, () => false);

async function until(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function assertNoOverlap(marks: string, expected: number): void {
  const lines = marks.trim().split('\n');
  assert.equal(lines.length, expected * 2, marks);
  for (let i = 0; i < lines.length; i += 2) {
    const [s, a] = lines[i]!.split(' ');
    const [e, b] = lines[i + 1]!.split(' ');
    assert.deepEqual([s, e, a], ['start', 'end', b], `builds overlapped:\n${marks}`);
  }
}

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

  test('with --wait, 20 deploys of 20 commits all complete one after another, never overlapping', async (t) => {
    const app = await appFixture(t, { config: (url) => config(url, 'retry_interval = "50ms"\nretry_attempts = 2000') });
    const shas: string[] = [];
    for (let i = 1; i <= 20; i++) shas.push(await commit(app, i));
    const marks = join(app.root, '..', 'marks');
    const runs = shas.map((sha) => mfd(['deploy', '--wait', sha], { cwd: app.root, env: { T_MARKS: marks, T_HOLD_MS: '20' } }));
    const results = await Promise.all(runs);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.ok(results.some((r) => /waiting: deploy lock held by/.test(r.stderr)), 'waits are printed');
    assertNoOverlap(await readFile(marks, 'utf8'), 20);
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

  test('two apps sharing a resource never build at the same time', async (t) => {
    const lockDir = await tmpRoot(t);
    const lock = `dir = "${lockDir}"\nresources = ["postgres"]\nwait = true\nretry_interval = "50ms"\nretry_attempts = 2000`;
    const a = await appFixture(t, { config: (url) => config(url, lock) });
    const b = await appFixture(t, { config: (url) => config(url, lock) });
    await commit(a, 1);
    await commit(b, 1);
    const marks = join(lockDir, 'marks');
    const runs = [a, b, a, b].map((app, i) => mfd(['deploy', i < 2 ? 'main' : 'main~0'], { cwd: app.root, env: { T_MARKS: marks, T_HOLD_MS: '100', T_TAG: `${i}` } }));
    for (const r of await Promise.all(runs)) assert.equal(r.code, 0, r.stderr);
    const text = await readFile(marks, 'utf8');
    assertNoOverlap(text, text.trim().split('\n').length / 2);
  });

  test('two apps without a shared scope build at the same time', async (t) => {
    const lockDir = await tmpRoot(t);
    const a = await appFixture(t, { config: (url) => config(url, `dir = "${lockDir}"\nresources = ["redis"]`) });
    const b = await appFixture(t, { config: (url) => config(url, `dir = "${lockDir}"\nresources = ["postgres"]`) });
    await commit(a, 1);
    await commit(b, 1);
    // Each build waits for the other's to have started: both finish only if they overlap.
    const sa = join(lockDir, 'started-a');
    const sb = join(lockDir, 'started-b');
    const [ra, rb] = await Promise.all([
      mfd(['deploy'], { cwd: a.root, env: { T_STARTED: sa, T_WAIT_FOR: sb } }),
      mfd(['deploy'], { cwd: b.root, env: { T_STARTED: sb, T_WAIT_FOR: sa } }),
    ]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
  });

  test('the host lock keeps two opted-in apps apart', async (t) => {
    const lockDir = await tmpRoot(t);
    const a = await appFixture(t, { config: (url) => config(url, `dir = "${lockDir}"\nhost = true`) });
    const b = await appFixture(t, { config: (url) => config(url, `dir = "${lockDir}"\nhost = true`) });
    await commit(a, 1);
    await commit(b, 1);
    const gate = join(lockDir, 'gate');
    const started = join(lockDir, 'started');
    const first = startMfd(['deploy'], { cwd: a.root, env: { T_WAIT_FOR: gate, T_STARTED: started } });
    await until(() => exists(started), 'the first build to start');
    const second = await mfd(['deploy'], { cwd: b.root });
    assert.equal(second.code, 3);
    assert.match(second.stderr, /error: host deploy lock held by/);
    await writeFile(gate, 'go');
    assert.equal((await first.done).code, 0);
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

  test('mfd unlock refuses another host\'s lock while its heartbeat is fresh, unless --force; a stale one goes without', async (t) => {
    const app = await appFixture(t, { config: (url) => config(url) });
    const lock = join(app.root, '.mfd-deploy.lock');
    const foreign = { pid: 4242, user: 'carol', hostname: 'elsewhere', timestamp: Date.now(), command: 'deploy', ref: 'main' };
    await writeFile(lock, JSON.stringify(foreign));
    const refused = await mfd(['unlock'], { cwd: app.root });
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /error: the app lock is held from another host: carol@elsewhere pid 4242 \("mfd deploy"\), heartbeat \d+s ago\n  hint: check on elsewhere .*mfd unlock app --force/);
    assert.equal(await exists(lock), true);
    assert.equal((await mfd(['unlock', '--force'], { cwd: app.root })).code, 0);
    assert.equal(await exists(lock), false);

    await writeFile(lock, JSON.stringify(foreign));
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(lock, old, old);
    const stale = await mfd(['unlock'], { cwd: app.root });
    assert.equal(stale.code, 0, stale.stderr);
    assert.equal(await exists(lock), false);
  });

  test('a lock file naming pid 0 or -1, or garbage, is shown invalid and stale, never alive, and a deploy takes it over', async (t) => {
    const app = await appFixture(t, { config: (url) => config(url) });
    await commit(app, 1);
    const lock = join(app.root, '.mfd-deploy.lock');
    for (const text of [0, -1].map((pid) => JSON.stringify({ pid, user: 'eve', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: null })).concat(['{"pid":'])) {
      await writeFile(lock, text);
      const human = await mfd(['lock', 'list'], { cwd: app.root });
      assert.match(human.stdout, /^app +unknown holder +\[stale: the lock file is unreadable or names no valid holder\]/m, text);
      const [row] = JSON.parse((await mfd(['lock', 'list', '--json'], { cwd: app.root })).stdout);
      assert.equal(row.alive, null, text);
      assert.equal(row.owner, null, text);
      assert.match((await mfd(['status'], { cwd: app.root })).stdout, /^lock: +stale by unknown$/m);
    }
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Found stale lock file, removing\.\.\./);
  });

  test('mfd resolve that must fetch waits for the cache lock while its holder lives, then goes on', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    await app.commitVersion(2);
    assert.equal((await mfd(['deploy'], { cwd: app.root })).code, 0);
    // A live holder of the cache lock, as a deploy's fetch would be (same host, so liveness counts).
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    t.after(() => holder.kill('SIGKILL'));
    const lock = join(app.root, '.mfd', 'repo.git.lock');
    await writeFile(lock, JSON.stringify({ pid: holder.pid, user: 'erin', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: 'main' }));
    const listed = JSON.parse((await mfd(['lock', 'list', '--json'], { cwd: app.root })).stdout);
    assert.deepEqual(listed.map((l: { name: string; alive: boolean }) => [l.name, l.alive]), [['cache', true]]);

    // A short sha of an older commit needs history the cache lacks: the resolve must fetch.
    const run = startMfd(['resolve', sha.slice(0, 10)], { cwd: app.root });
    await waitForOutput(run, `waiting for the repository cache: cache lock held by erin@`);
    assert.equal(run.child.exitCode, null, 'it waits instead of failing');
    holder.kill('SIGKILL');
    const done = await run.done;
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout.trim(), sha);
    assert.equal(await exists(lock), false, 'the lock is released after the fetch');
    // A name needs no fetch and never waits.
    await writeFile(lock, JSON.stringify({ pid: process.pid, user: 'erin', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: null }));
    const byName = await mfd(['resolve', 'main'], { cwd: app.root });
    assert.equal(byName.code, 0, byName.stderr);
    assert.doesNotMatch(byName.stderr, /waiting/);
  });

  test('a cache lock whose live holder keeps its heartbeat past [lock] stale ends the wait with exit 3', async (t) => {
    const app = await appFixture(t, {
      config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "build.js"]]\n[lock]\nstale = "1s"\n`,
    });
    const sha = await app.commitVersion(1);
    await app.commitVersion(2);
    assert.equal((await mfd(['deploy'], { cwd: app.root })).code, 0);
    const lock = join(app.root, '.mfd', 'repo.git.lock');
    await writeFile(lock, JSON.stringify({ pid: process.pid, user: 'erin', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: null }));
    // The holder's heartbeat, as a live deploy keeps it.
    const beat = setInterval(() => void utimes(lock, new Date(), new Date()).catch(() => undefined), 100);
    t.after(() => clearInterval(beat));
    const r = await mfd(['resolve', sha.slice(0, 10)], { cwd: app.root });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /waiting for the repository cache/);
    assert.match(r.stderr, /^error: cache lock held by erin@.*\n  hint: .*mfd unlock cache/m);
  });
});
