import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { access, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { testContext } from '../helpers/context.ts';
import { deploy as deployInProcess } from '../../src/run/deploy.ts';
import { appFixture, type AppFixture, BUILD_COMMANDS } from '../helpers/app.ts';
import { MFD, mfd } from '../helpers/cli.ts';
import { runInPidNamespace, skipUnlessPidNamespace, type Action, type Report } from '../helpers/pidns.ts';

/** Sets the scene without a process: the deploys under test are the CLI's. */
const deployFirst = async (root: string) => void (await deployInProcess((await testContext(root)).ctx, undefined));

/**
 * The deploy after the interrupted one, in-process: that it needs no manual step is a matter of
 * what the interrupted run left on disk, which the same code reads whoever runs it.
 */
async function deployAfter(root: string): Promise<{ stderr: string }> {
  const run = await testContext(root);
  await deployInProcess(run.ctx, undefined);
  return { stderr: run.stderr() };
}

// Ctrl-C and SIGTERM, sent to the real CLI in a private pid namespace (TESTING.md §4): the run
// must end as a clean failure (exit 130 / 143, lock released, nothing left `building`, its
// directory removed, a history line saying `interrupted`) and nothing it started may outlive it.
const node = JSON.stringify(process.execPath);
const HEALTHY = (url: string) => `[repo]\nurl = "${url}"\n[build]\n${BUILD_COMMANDS}\n[health]\ncommand = ["true"]\n`;
const HOLD = (url: string) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "hold.js"]]\n`;
// A build that records its pid, ignores SIGTERM and SIGINT (noting the TERM), and runs until killed.
const HOLD_JS = `const fs = require('fs');
if (process.env.T_STARTED) {
  process.on('SIGTERM', () => {
    fs.writeFileSync(process.env.T_TERM, 'got SIGTERM');
    if (process.env.T_TERM_EXITS) process.exit(1);
  });
  process.on('SIGINT', () => {});
  fs.writeFileSync(process.env.T_STARTED, String(process.pid));
  setInterval(() => {}, 1000);
} else {
  fs.writeFileSync('build-info.json', JSON.stringify({ commit: process.env.MFD_COMMIT }));
}`;

const exists = (path: string) => access(path).then(() => true, () => false);
const deploy = (app: AppFixture, env: Record<string, string> = {}, id = 'mfd', args = ['deploy']): Action =>
  ({ op: 'start', id, argv: [process.execPath, MFD, ...args], cwd: app.root, env: { NO_COLOR: '1', ...env } });


async function lastHistory(app: AppFixture): Promise<Record<string, any>> {
  const lines = (await readFile(join(app.root, '.mfd', 'history.jsonl'), 'utf8')).trim().split('\n');
  return JSON.parse(lines.at(-1)!);
}

async function records(app: AppFixture): Promise<Record<string, any>[]> {
  const dir = join(app.root, '.mfd', 'deployments');
  const files = await readdir(dir).catch(() => [] as string[]);
  return Promise.all(files.filter((f) => f.endsWith('.json')).map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8'))));
}

/** An interrupted deploy of `next` before activation: everything as if it had failed cleanly. */
async function assertInterruptedBeforeActivation(app: AppFixture, r: Report, opts: { code: number; signal: string; old: string; next: string }) {
  const run = r.results.mfd!;
  assert.equal(run.code, opts.code, run.stderr);
  assert.match(run.stderr, new RegExp(`^error: interrupted by ${opts.signal} .*active is untouched`, 'm'));
  assert.doesNotMatch(run.stderr, /internal error|\n\s+at /);
  assert.deepEqual(r.leftover, [], 'nothing mfd started is still running');
  assert.equal(await exists(join(app.root, '.mfd-deploy.lock')), false, 'the deploy lock is released');
  assert.equal(await exists(join(app.root, '.mfd', 'repo.git.lock')), false, 'the cache lock is released');
  assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${opts.old}$`));
  assert.equal(JSON.parse(await readFile(join(app.root, 'active', 'build-info.json'), 'utf8')).commit, opts.old);
  assert.deepEqual((await records(app)).filter((rec) => rec.state === 'building'), [], 'no record is left building');
  for (const rec of (await records(app)).filter((x) => x.sha === opts.next)) assert.equal(rec.state, 'failed');
  assert.deepEqual((await readdir(app.root)).filter((n) => n.endsWith(opts.next)), [], 'its directory is removed');
  const h = await lastHistory(app);
  assert.deepEqual([h.outcome, h.error?.code], ['interrupted', 'INTERRUPTED']);

  // The next deploy needs no manual step: no stale lock to take over, no dead build to clean up.
  const again = await deployAfter(app.root);
  assert.doesNotMatch(again.stderr, /stale lock|failed and removed it/);
  assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${opts.next}$`));
}

describe('SIGINT, SIGTERM and SIGHUP (e2e)', () => {
  for (const { step, signal, code } of [
    { step: 'resolve', signal: 'SIGINT', code: 130 },
    { step: 'fetch', signal: 'SIGINT', code: 130 },
    { step: 'checkout', signal: 'SIGTERM', code: 143 },
    { step: 'built', signal: 'SIGTERM', code: 143 },
    { step: 'checkout', signal: 'SIGHUP', code: 129 },
  ] as const) {
    test(`${signal} at "${step}": exit ${code}, lock released, the new deployment failed and removed, history says interrupted`, async (t) => {
      if (await skipUnlessPidNamespace(t)) return;
      const app = await appFixture(t, { config: HEALTHY });
      const old = await app.commitVersion(1);
      await deployFirst(app.root);
      const next = await app.commitVersion(2);
      const r = await runInPidNamespace([
        deploy(app, { MFD_TEST_PAUSE_AT: step }),
        { op: 'waitOutput', id: 'mfd', text: `mfd-test-paused-at:${step}` },
        { op: 'signal', id: 'mfd', signal },
        { op: 'exit', id: 'mfd' },
      ]);
      await assertInterruptedBeforeActivation(app, r, { code, signal, old, next });
    });
  }

  /** An app deployed once, and a second commit whose build blocks and records the SIGTERM it ignores. */
  async function heldBuildScene(t: TestContext) {
    const app = await appFixture(t, { config: HOLD });
    const old = await app.commitVersion(1, { extra: { 'hold.js': HOLD_JS } });
    await deployFirst(app.root);
    const next = await app.commitVersion(2, { extra: { 'hold.js': HOLD_JS } });
    return { app, old, next, started: join(app.root, '..', 'build-started'), term: join(app.root, '..', 'build-got-term') };
  }

  test('SIGTERM during a build that ignores it: TERM to its group, KILL after the grace, exit 143, nothing left running', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const { app, old, next, started, term } = await heldBuildScene(t);
    const r = await runInPidNamespace([
      deploy(app, { T_STARTED: started, T_TERM: term }),
      { op: 'waitFile', path: started },
      { op: 'signal', id: 'mfd', signal: 'SIGTERM' },
      { op: 'exit', id: 'mfd' },
    ]);
    assert.equal(await readFile(term, 'utf8'), 'got SIGTERM', 'the build was asked to stop first');
    assert.match(r.results.mfd!.stderr, /build command .* failed|interrupted by SIGTERM while building mfd_\d+_[0-9a-f]{40}, which is recorded failed and removed/);
    await assertInterruptedBeforeActivation(app, r, { code: 143, signal: 'SIGTERM', old, next });
  });

  test('the terminal hangs up during a build (ssh drops): SIGHUP stops it cleanly although every write now fails with EIO', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const { app, old, next, started, term } = await heldBuildScene(t);
    const r = await runInPidNamespace([
      // script(1) gives mfd a terminal as sshd does, mfd its session leader. Killing script closes
      // the terminal's master side: the kernel hangs it up, sends mfd SIGHUP, and writes get EIO.
      { op: 'start', id: 'ssh', argv: ['script', '-qfec', `exec ${node} ${JSON.stringify(MFD)} deploy`, '/dev/null'], cwd: app.root, env: { T_STARTED: started, T_TERM: term, T_TERM_EXITS: '1' } },
      { op: 'waitFile', path: started },
      { op: 'signal', id: 'ssh', signal: 'SIGKILL' },
      { op: 'exit', id: 'ssh' },
      // The build exits on its TERM; the runner then waits for mfd to be gone (its report's leftover).
      { op: 'waitFile', path: term },
    ]);
    assert.deepEqual(r.leftover, [], 'neither mfd nor its build outlives the hang-up');
    assert.equal(await exists(join(app.root, '.mfd-deploy.lock')), false, 'the deploy lock is released');
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${old}$`));
    assert.deepEqual((await records(app)).filter((rec) => rec.state === 'building'), [], 'no record is left building');
    assert.deepEqual((await readdir(app.root)).filter((n) => n.endsWith(next)), [], 'its directory is removed');
    const h = await lastHistory(app);
    assert.deepEqual([h.outcome, h.error?.code], ['interrupted', 'INTERRUPTED']);
    assert.match(h.error.message, /^interrupted by SIGHUP while building mfd_\d+_[0-9a-f]{40}, which is recorded failed and removed; active is untouched$/);
    // What the gone terminal could not show is in the run's log, for `mfd logs`.
    assert.match(await readFile(h.log, 'utf8'), /^error: interrupted by SIGHUP while building /m);
  });

  test('a second Ctrl-C kills the build at once, and the clean-up still runs', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const { app, old, next, started, term } = await heldBuildScene(t);
    const r = await runInPidNamespace([
      deploy(app, { T_STARTED: started, T_TERM: term }),
      { op: 'waitFile', path: started },
      { op: 'signal', id: 'mfd', signal: 'SIGINT' },
      { op: 'waitFile', path: term },
      { op: 'signal', id: 'mfd', signal: 'SIGINT' },
      { op: 'exit', id: 'mfd' },
    ]);
    assert.match(r.results.mfd!.stderr, /SIGINT again: killing running commands now; the clean-up still runs/);
    await assertInterruptedBeforeActivation(app, r, { code: 130, signal: 'SIGINT', old, next });
  });

  test('Ctrl-C after activation: the restart and health check finish, active is the new complete deployment, as history says', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const app = await appFixture(t, { config: HEALTHY });
    await app.commitVersion(1);
    await deployFirst(app.root);
    const next = await app.commitVersion(2);
    const r = await runInPidNamespace([
      deploy(app, { MFD_TEST_PAUSE_AT: 'activated' }),
      { op: 'waitOutput', id: 'mfd', text: 'mfd-test-paused-at:activated' },
      { op: 'signal', id: 'mfd', signal: 'SIGINT' },
      { op: 'exit', id: 'mfd' },
    ]);
    const run = r.results.mfd!;
    assert.equal(run.code, 130, run.stderr);
    assert.match(run.stderr, /✓ health /, 'the health check ran to the end');
    assert.match(run.stderr, new RegExp(`error: interrupted by SIGINT after activation; old deployments were not pruned: mfd_\\d+_${next} \\(${next}\\) is active and came up`));
    assert.deepEqual(r.leftover, []);
    assert.equal(await exists(join(app.root, '.mfd-deploy.lock')), false);
    const active = await readlink(join(app.root, 'active'));
    assert.match(active, new RegExp(`_${next}$`));
    assert.equal(JSON.parse(await readFile(join(app.root, 'active', 'build-info.json'), 'utf8')).commit, next);
    const rec = (await records(app)).find((x) => x.name === active);
    assert.equal(rec?.state, 'healthy');
    const h = await lastHistory(app);
    assert.deepEqual([h.outcome, h.sha, h.deployment], ['interrupted', next, active]);

    const again = await deployAfter(app.root);
    assert.match(again.stderr, /reusing/);
    assert.doesNotMatch(again.stderr, /stale lock|failed and removed it/);
  });

  test('Ctrl-C while waiting for the lock ends the wait at once with 130; the holder keeps its lock', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const app = await appFixture(t, { config: (url) => `${HEALTHY(url)}[lock]\nretry_interval = "20ms"\nretry_attempts = 100000\n` });
    const old = await app.commitVersion(1);
    await deployFirst(app.root);
    const next = await app.commitVersion(2);
    const lock = join(app.root, '.mfd-deploy.lock');
    const r = await runInPidNamespace([
      deploy(app, { MFD_TEST_PAUSE_AT: 'resolve' }, 'holder'),
      { op: 'waitOutput', id: 'holder', text: 'mfd-test-paused-at:resolve' },
      deploy(app, {}, 'waiter', ['deploy', '--wait']),
      { op: 'waitOutput', id: 'waiter', text: 'waiting: deploy lock held by' },
      { op: 'signal', id: 'waiter', signal: 'SIGINT' },
      { op: 'exit', id: 'waiter' },
      { op: 'checkFile', path: lock },
      { op: 'signal', id: 'holder', signal: 'SIGINT' },
      { op: 'exit', id: 'holder' },
    ]);
    const waiter = r.results.waiter!;
    assert.equal(waiter.code, 130, waiter.stderr);
    assert.match(waiter.stderr, /^error: interrupted by SIGINT while waiting for a lock; nothing was changed$/m);
    assert.doesNotMatch(waiter.stderr, /MaxListenersExceededWarning/);
    assert.deepEqual(r.checks, [{ path: lock, exists: true }], 'the holder\'s lock outlives the waiter');
    assert.equal(r.results.holder!.code, 130, r.results.holder!.stderr);
    const history = (await readFile(join(app.root, '.mfd', 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(history.slice(-2).map((h) => h.outcome), ['interrupted', 'interrupted']);
    await assertInterruptedBeforeActivation(app, { ...r, results: { mfd: r.results.holder! } }, { code: 130, signal: 'SIGINT', old, next });
  });
  test('Ctrl-C before a rollback activates: exit 130, active unchanged, lock released, history says interrupted', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const app = await appFixture(t, { config: HEALTHY });
    await app.commitVersion(1);
    await deployFirst(app.root);
    const two = await app.commitVersion(2);
    await deployFirst(app.root);
    const r = await runInPidNamespace([
      deploy(app, { MFD_TEST_PAUSE_AT: 'rollback-planned' }, 'mfd', ['rollback']),
      { op: 'waitOutput', id: 'mfd', text: 'mfd-test-paused-at:rollback-planned' },
      { op: 'signal', id: 'mfd', signal: 'SIGINT' },
      { op: 'exit', id: 'mfd' },
    ]);
    assert.equal(r.results.mfd!.code, 130, r.results.mfd!.stderr);
    assert.match(r.results.mfd!.stderr, /^error: interrupted by SIGINT before activation; active is untouched$/m);
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${two}$`));
    assert.equal(await exists(join(app.root, '.mfd-deploy.lock')), false);
    const h = await lastHistory(app);
    assert.deepEqual([h.command, h.outcome], ['rollback', 'interrupted']);
    assert.equal((await mfd(['ls'], { cwd: app.root })).stdout.split('\n')[0], `${two} (active)`, 'nothing was marked rolled-back');
    assert.equal((await mfd(['rollback'], { cwd: app.root })).code, 0);
  });
});
