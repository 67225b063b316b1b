// The deploy loop (cd/) driven in-process: a real Context (test/helpers/context.ts) for a real app
// root and git server, real builds, no CLI process. test/e2e/watch.test.ts keeps what only the
// process shows (signals, the poll clock).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readlink, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { commitHold, exists, holdConfig, until } from '../helpers/hold.ts';
import { snapshotTree } from '../helpers/snapshot.ts';
import { plumbing, rawTree } from '../helpers/tree.ts';
import { deploy } from '../../src/run/deploy.ts';
import { rollback } from '../../src/run/rollback.ts';
import { DeployLoop } from '../../src/cd/loop.ts';
import { createAppLoop, type AppLoop } from '../../src/cd/app-loop.ts';
import { LevelLog } from '../../src/cd/log.ts';
import { runPoller } from '../../src/cd/poller.ts';
import { PAUSE } from '../../src/commands/pause.ts';
import { RESUME } from '../../src/commands/resume.ts';
import { WATCH } from '../../src/commands/watch.ts';
import { STATUS } from '../../src/commands/status.ts';
import { readQuarantine } from '../../src/state/quarantine.ts';

const activeSha = async (root: string) => /_([0-9a-f]{40})$/.exec(await readlink(join(root, 'active')))?.[1];
async function history(root: string): Promise<Record<string, any>[]> {
  const text = await readFile(join(root, '.mfd', 'history.jsonl'), 'utf8').catch(() => '');
  return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** The app's loop as `mfd watch` builds it, on a real Context; `lines` is its log. */
async function appLoop(app: AppFixture, env: Record<string, string> = {}): Promise<AppLoop & { lines: string[]; pollOnce: () => Promise<void> }> {
  const lines: string[] = [];
  const { ctx } = await testContext(app.root, { env });
  const loop = createAppLoop(ctx, new LevelLog((l) => lines.push(l)));
  return { ...loop, lines, pollOnce: async () => { loop.loop.poke({ kind: 'poll' }); await loop.loop.idle(); } };
}

describe('cd/loop', () => {
  test('a poke runs the body once, and idle() resolves when it is done', async () => {
    const triggers: string[] = [];
    const loop = new DeployLoop({
      body: async (trigger) => {
        triggers.push(trigger.kind);
        return { outcome: 'success', sha: null, at: 1, error: null };
      },
      onCrash: (error) => assert.fail(String(error)),
      now: () => 1,
    });
    assert.equal(loop.lastRun(), undefined);
    loop.poke({ kind: 'manual' });
    await loop.idle();
    assert.deepEqual(triggers, ['manual']);
    assert.equal(loop.lastRun()?.outcome, 'success');
    await loop.stop(1000);
    loop.poke({ kind: 'poll' });
    await loop.idle();
    assert.deepEqual(triggers, ['manual'], 'a stopped loop runs nothing more');
  });

  test('a burst of 50 pokes while a deploy runs gives the running deploy and at most one more', async (t) => {
    const app = await appFixture(t, { config: (url) => holdConfig(url) });
    const tmp = join(app.root, '..');
    const started = join(tmp, 'started');
    const release = join(tmp, 'release');
    const marks = join(tmp, 'marks');
    const one = await commitHold(app, 1);
    const loop = await appLoop(app, { T_STARTED: started, T_WAIT_FOR: release, T_MARKS: marks });
    loop.loop.poke({ kind: 'poll' });
    await until(() => exists(started), 'the first build to start');
    const two = await commitHold(app, 2);
    loop.loop.poke({ kind: 'webhook', delivery: 'bad id\n{"x":1}' });
    for (let i = 0; i < 50; i++) loop.loop.poke({ kind: 'webhook', delivery: `d${i}` });
    await writeFile(release, '');
    await loop.loop.idle();
    const runs = await history(app.root);
    assert.deepEqual(runs.map((r) => [r.sha, r.outcome, r.trigger]), [[one, 'success', 'poll'], [two, 'success', 'webhook (delivery id not shown: not a plain id)']]);
    assert.equal((await readFile(marks, 'utf8')).match(/^start/gm)?.length, 2, 'two builds');
    assert.equal(await activeSha(app.root), two);
    assert.equal(loop.loop.lastRun()?.sha, two);
  });

  test('the loop waits for a manual deploy holding the lock, then deploys the newer head', async (t) => {
    const app = await appFixture(t, { config: (url) => holdConfig(url, 'retry_interval = "50ms"\nretry_attempts = 100000') });
    const tmp = join(app.root, '..');
    const started = join(tmp, 'started');
    const release = join(tmp, 'release');
    const one = await commitHold(app, 1);
    const manual = testContext(app.root, { env: { T_STARTED: started, T_WAIT_FOR: release } }).then(({ ctx }) => deploy(ctx, one));
    await until(() => exists(started), 'the manual build to start');
    const two = await commitHold(app, 2);
    const loop = await appLoop(app, { T_WAIT_FOR: release });
    loop.loop.poke({ kind: 'poll' });
    await until(async () => loop.lines.some((l) => l.startsWith('info: waiting: deploy lock held by')), 'the loop to wait for the lock');
    await writeFile(release, '');
    await manual;
    await loop.loop.idle();
    assert.equal(await activeSha(app.root), two);
    assert.deepEqual((await history(app.root)).map((r) => [r.sha, r.outcome, r.trigger]), [[one, 'success', 'manual'], [two, 'success', 'poll']]);
  });

  test('a loop run that waited for the lock deploys nothing when the manual deploy it waited for deployed the same head', async (t) => {
    const app = await appFixture(t, { config: (url) => holdConfig(url, 'retry_interval = "50ms"\nretry_attempts = 100000') });
    const tmp = join(app.root, '..');
    const started = join(tmp, 'started');
    const release = join(tmp, 'release');
    const marks = join(tmp, 'marks');
    const one = await commitHold(app, 1);
    const manual = testContext(app.root, { env: { T_STARTED: started, T_WAIT_FOR: release, T_MARKS: marks } }).then(({ ctx }) => deploy(ctx, undefined));
    await until(() => exists(started), 'the manual build to start');
    const loop = await appLoop(app, { T_MARKS: marks });
    loop.loop.poke({ kind: 'poll' });
    await until(async () => loop.lines.some((l) => l.startsWith('info: waiting: deploy lock held by')), 'the loop to wait for the lock');
    await writeFile(release, '');
    await manual;
    await loop.loop.idle();
    assert.equal((await readFile(marks, 'utf8')).match(/^start/gm)?.length, 1, 'one build');
    const runs = await history(app.root);
    assert.deepEqual(runs.map((r) => [r.outcome, r.trigger, r.error?.code ?? null]), [['success', 'manual', null], ['refused', 'poll', 'DEPLOY_SUPERSEDED']]);
    assert.match(runs[1]!.error.message, new RegExp(`^automatic deploy of ${one} not started: ${one} is active$`));
    assert.equal(await activeSha(app.root), one);
    // Nothing failed: /healthz?last_run (the loop's lastRun) must not turn 503, nor the log say error.
    assert.notEqual(loop.loop.lastRun()?.outcome, 'failed', JSON.stringify(loop.loop.lastRun()));
    assert.ok(!loop.lines.some((l) => l.startsWith('error:')), loop.lines.join('\n'));
    await loop.pollOnce();
    assert.notEqual(loop.loop.lastRun()?.outcome, 'failed', JSON.stringify(loop.loop.lastRun()));
  });

  test('mfd watch does not back off after a run a manual deploy superseded: nothing failed', async (t) => {
    const app = await appFixture(t, { config: (url) => `${holdConfig(url, 'retry_interval = "50ms"\nretry_attempts = 100000')}\n[watch]\ninterval = "1s"\n` });
    const tmp = join(app.root, '..');
    const started = join(tmp, 'started');
    const release = join(tmp, 'release');
    const one = await commitHold(app, 1);
    const manual = testContext(app.root, { env: { T_STARTED: started, T_WAIT_FOR: release } }).then(({ ctx }) => deploy(ctx, undefined));
    await until(() => exists(started), 'the manual build to start');
    const watch = await testContext(app.root);
    const running = WATCH.run(watch.ctx, [], {});
    await until(async () => watch.stderr().includes('waiting: deploy lock held by'), 'the watch to wait for the lock');
    await writeFile(release, '');
    await manual;
    await until(async () => new RegExp(`^info: ${one} is active$`, 'm').test(watch.stderr()), 'the next poll to find the head active');
    watch.controller.abort({ signal: 'SIGTERM', hurry: new AbortController().signal });
    await running;
    assert.match(watch.stderr(), /DEPLOY_SUPERSEDED|not started/);
    assert.ok(!watch.stderr().includes('backing off'), watch.stderr());
  });

  test('a loop run whose head went stale (a manual deploy of a newer head landed while it resolved) does not deploy the older commit over it', async (t) => {
    // The loop's ls-refs answer (main at two) is held once armed, while three is pushed and deployed by hand.
    let armed = false;
    let answerHeld!: () => void;
    const held = new Promise<void>((resolve) => (answerHeld = resolve));
    let letGo!: () => void;
    const gate = new Promise<void>((resolve) => (letGo = resolve));
    const app = await appFixture(t, {
      beforeChunk: async (entry) => {
        if (!armed || entry.command !== 'ls-refs') return;
        armed = false;
        answerHeld();
        await gate;
      },
    });
    const one = await app.commitVersion(1);
    await deploy((await testContext(app.root)).ctx, undefined);
    const two = await app.commitVersion(2);
    const loop = await appLoop(app);
    armed = true;
    loop.loop.poke({ kind: 'poll' });
    await held;
    const three = await app.commitVersion(3);
    await deploy((await testContext(app.root)).ctx, undefined);
    assert.equal(await activeSha(app.root), three);
    letGo();
    await loop.loop.idle();
    assert.equal(await activeSha(app.root), three, 'the loop put the older commit back over the newer one');
    const runs = await history(app.root);
    assert.deepEqual(runs.map((r) => [r.sha ?? null, r.outcome, r.trigger]).slice(0, 2), [[one, 'success', 'manual'], [three, 'success', 'manual']]);
    assert.ok(!runs.some((r) => r.sha === two && r.outcome === 'success'), JSON.stringify(runs));
    assert.deepEqual(runs.slice(2).map((r) => [r.outcome, r.trigger, r.error?.code]), [['refused', 'poll', 'DEPLOY_SUPERSEDED']]);
    assert.equal(runs[2]!.error.message, `automatic deploy of ${two} not started: the branch head moved on to ${three} while this run waited`);
  });

  test('a failed commit is skipped from then on, and a newer one is deployed; a quiet poll writes nothing', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const loop = await appLoop(app);
    await loop.pollOnce();
    assert.equal(await activeSha(app.root), one);

    const before = await snapshotTree(app.root);
    app.server.resetCounters();
    await loop.pollOnce();
    assert.deepEqual(await snapshotTree(app.root), before, 'a poll with nothing to do writes nothing');
    // One ref advertisement (protocol v2: the capabilities and ls-refs, sent together), and no fetch.
    assert.deepEqual(app.server.requests.map((r) => r.command).sort(), ['advertise', 'ls-refs']);
    assert.deepEqual(loop.latest(), { kind: 'current', sha: one });

    const two = await app.commitVersion(2, { fail: true });
    await loop.pollOnce();
    assert.equal(await activeSha(app.root), one);
    const marks = await readQuarantine((await testContext(app.root)).ctx.layout);
    assert.ok(marks.ok && marks.marks.get(two)?.outcome === 'failed', JSON.stringify(marks));
    assert.match(marks.ok ? marks.marks.get(two)!.reason : '', /^BUILD_FAILED: /);

    const quiet = await snapshotTree(app.root);
    await loop.pollOnce();
    await loop.pollOnce();
    assert.equal(loop.latest()?.kind, 'quarantined');
    assert.deepEqual(await snapshotTree(app.root), quiet, 'a quarantined head is not built again, and nothing is written');
    assert.equal(loop.lines.filter((l) => l.includes(`${two} is quarantined`)).length, 1, `said once:\n${loop.lines.join('\n')}`);
    assert.ok(loop.lines.some((l) => /^error: deploy of [0-9a-f]{40} failed: BUILD_FAILED: /.test(l)), loop.lines.join('\n'));

    const three = await app.commitVersion(3);
    await loop.pollOnce();
    assert.equal(await activeSha(app.root), three);
    assert.deepEqual((await history(app.root)).map((r) => [r.sha ?? null, r.outcome]), [[one, 'success'], [null, 'failed'], [three, 'success']]);
  });

  test("a poll sends its ls-refs with the capabilities, not after their answer: the server gets it while their answer is held", async (t) => {
    let server: AppFixture['server'] | undefined;
    const listed = () => server?.requests.some((r) => r.command === 'ls-refs') ?? false;
    // The capabilities' answer waits until the listing has arrived (at most 30 s): a poll that asked
    // one after the other would not send it before that answer, and fail below.
    let answeredFirst = false;
    const app = await appFixture(t, {
      beforeChunk: async (entry) => {
        if (entry.command !== 'advertise' || listed()) return;
        answeredFirst = await until(async () => listed(), 'the ls-refs request', 30_000).then(() => false, () => true);
      },
    });
    server = app.server;
    const one = await app.commitVersion(1);
    const loop = await appLoop(app);
    app.server.resetCounters();
    await loop.pollOnce();
    assert.equal(answeredFirst, false, 'the capabilities were answered before the ls-refs request was sent');
    assert.deepEqual(loop.latest(), { kind: 'deployed', sha: one, deployment: (await readlink(join(app.root, 'active'))) });
    const asked = app.server.requests.map((r) => r.command);
    assert.deepEqual(asked.slice(0, 2).sort(), ['advertise', 'ls-refs'], asked.join(' '));
    assert.ok(app.server.requests.filter((r) => r.command === 'ls-refs').length === 1, 'the listing sent ahead is the one the poll took');
  });

  test('a commit holding a name no file system stores (over 255 bytes) is quarantined, not retried at every poll', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const loop = await appLoop(app);
    await loop.pollOnce();
    const p = plumbing(app.repo.bare);
    const tree = Buffer.concat([await p.readTree(`${one}^{tree}`), rawTree([['100644', 'x'.repeat(256), await p.blob('hi\n')]])]);
    const bad = await p.commit(await p.tree(tree), one);
    await p.setRef('refs/heads/main', bad);
    await loop.pollOnce();
    const failed = loop.latest();
    assert.ok(failed?.kind === 'deploy-failed' && failed.quarantined && failed.error.code === 'TREE_INVALID', JSON.stringify(failed));
    assert.equal(await activeSha(app.root), one);
    await loop.pollOnce();
    assert.equal(loop.latest()?.kind, 'quarantined', loop.lines.join('\n'));
    assert.equal((await history(app.root)).filter((r) => r.outcome === 'failed').length, 1, 'one deploy of it, not one per poll');
  });

  test('a rolled-back commit is not redeployed by the next poll; a manual deploy of it clears the mark', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const loop = await appLoop(app);
    await loop.pollOnce();
    const two = await app.commitVersion(2);
    await loop.pollOnce();
    assert.equal(await activeSha(app.root), two);

    await rollback((await testContext(app.root)).ctx, undefined);
    assert.equal(await activeSha(app.root), one);
    const quiet = await snapshotTree(app.root);
    await loop.pollOnce();
    assert.deepEqual(loop.latest(), { kind: 'quarantined', sha: two, reason: `rolled-back: rolled back to ${one}` });
    assert.equal(await activeSha(app.root), one);
    assert.deepEqual(await snapshotTree(app.root), quiet);

    const manual = await testContext(app.root);
    await deploy(manual.ctx, two);
    assert.match(manual.stderr(), new RegExp(`cleared the quarantine mark of ${two}`));
    const marks = await readQuarantine(manual.ctx.layout);
    assert.ok(marks.ok && marks.marks.size === 0);
    const last = (await history(app.root)).at(-1)!;
    assert.deepEqual([last.command, last.trigger, last.sha], ['deploy', 'manual', two]);
    await loop.pollOnce();
    assert.equal(loop.latest()?.kind, 'current');
  });

  test('a manual deploy of a rolled-back commit that is interrupted before activation keeps its mark: the loop does not deploy it', async (t) => {
    const app = await appFixture(t, { config: (url) => holdConfig(url) });
    const tmp = join(app.root, '..');
    const started = join(tmp, 'started');
    const one = await commitHold(app, 1);
    const loop = await appLoop(app);
    await loop.pollOnce();
    const two = await commitHold(app, 2);
    await loop.pollOnce();
    await rollback((await testContext(app.root)).ctx, undefined);
    assert.equal(await activeSha(app.root), one);

    // Typed by mistake, then Ctrl-C during its build: "active is untouched".
    const manual = await testContext(app.root, { env: { T_STARTED: started, T_WAIT_FOR: join(tmp, 'never') } });
    const run = deploy(manual.ctx, two);
    await until(() => exists(started), 'the manual build to start');
    manual.controller.abort({ signal: 'SIGINT', hurry: new AbortController().signal });
    await assert.rejects(run, { code: 'INTERRUPTED' });
    assert.equal(await activeSha(app.root), one);
    const marks = await readQuarantine(manual.ctx.layout);
    assert.ok(marks.ok && marks.marks.get(two)?.outcome === 'rolled-back', JSON.stringify(marks.ok && [...marks.marks]));

    await loop.pollOnce();
    assert.equal(loop.latest()?.kind, 'quarantined', loop.lines.join('\n'));
    assert.equal(await activeSha(app.root), one, 'the loop deployed the rolled-back commit by itself');
  });

  test('pause holds the loop (shown by status with who, when and why), manual deploys still work, resume releases it', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const loop = await appLoop(app);
    const paused = await testContext(app.root, { env: { USER: 'ops' }, json: true });
    await PAUSE.run(paused.ctx, [], { reason: 'db migration' });
    await loop.pollOnce();
    assert.deepEqual(loop.latest(), { kind: 'paused', by: `ops@${paused.ctx.identity.host}` });
    assert.equal(await exists(join(app.root, 'active')), false);

    const status = await testContext(app.root, { json: true });
    await STATUS.run(status.ctx, [], {});
    const json = JSON.parse(status.stdout());
    assert.equal(json.paused.user, 'ops');
    assert.equal(json.paused.reason, 'db migration');
    assert.ok(Date.parse(json.paused.at) > 0);
    const human = await testContext(app.root);
    await STATUS.run(human.ctx, [], {});
    assert.match(human.stdout(), /^paused: +continuous deployment, by ops@\S+ since \S+ \(.*\): db migration; "mfd resume" releases it$/m);

    await deploy((await testContext(app.root)).ctx, undefined);
    assert.equal(await activeSha(app.root), one, 'a manual deploy ignores the hold');
    const two = await app.commitVersion(2);
    await loop.pollOnce();
    assert.equal(await activeSha(app.root), one);

    await RESUME.run((await testContext(app.root)).ctx, [], {});
    await loop.pollOnce();
    assert.equal(await activeSha(app.root), two);
    assert.equal(loop.lines.filter((l) => l.includes('paused by ops')).length, 1, loop.lines.join('\n'));
  });

  test('an unreadable quarantine file is never guessed at: the loop deploys nothing by itself and says why once; status warns', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const loop = await appLoop(app);
    await loop.pollOnce();
    await app.commitVersion(2);
    await writeFile(join(app.root, '.mfd', 'quarantine.json'), '{"version":1,"marks":{"not-a-sha":{}}}\n');
    await loop.pollOnce();
    await loop.pollOnce();
    assert.equal(loop.latest()?.kind, 'unreadable');
    assert.equal(await activeSha(app.root), one);
    assert.equal(loop.lines.filter((l) => /^error: .*quarantine\.json: marks\..*deploying nothing by itself until it is fixed or removed$/.test(l)).length, 1, loop.lines.join('\n'));
    const status = await testContext(app.root);
    await STATUS.run(status.ctx, [], {});
    assert.match(status.stderr(), /warning: cannot read the quarantine marks: .*quarantine\.json/);
  });

  test('each unreadable state file is told, once: fixing one does not hide the next one that is broken', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const loop = await appLoop(app);
    await loop.pollOnce();
    await app.commitVersion(2);
    const told = (name: string) => loop.lines.filter((l) => l.startsWith('error: ') && l.includes(`${name}: not JSON: deploying nothing by itself`)).length;
    // Both broken: the pause file is read first and holds the loop.
    await writeFile(join(app.root, '.mfd', 'pause.json'), '{"user":');
    await writeFile(join(app.root, '.mfd', 'quarantine.json'), '{"version":');
    await loop.pollOnce();
    await loop.pollOnce();
    assert.equal(told('pause.json'), 1, loop.lines.join('\n'));
    // The pause file is fixed (removed): the quarantine file, still broken, now holds the loop and says so.
    await rm(join(app.root, '.mfd', 'pause.json'));
    await loop.pollOnce();
    await loop.pollOnce();
    assert.equal(told('quarantine.json'), 1, loop.lines.join('\n'));
    assert.equal(loop.latest()?.kind, 'unreadable');
    assert.equal(await activeSha(app.root), one);
  });

  test('a pause or quarantine file larger than mfd ever writes is not read: the loop deploys nothing and says which file, status exits 10', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const loop = await appLoop(app);
    await loop.pollOnce();
    await app.commitVersion(2);
    for (const name of ['pause.json', 'quarantine.json']) {
      const file = join(app.root, '.mfd', name);
      // Sparse: 3 GiB that take no space and no time to make.
      await writeFile(file, '');
      await truncate(file, 3 * 2 ** 30);
      await loop.pollOnce();
      assert.ok(!loop.lines.some((l) => l.includes('internal error')), loop.lines.join('\n'));
      const latest = loop.latest();
      assert.ok(latest?.kind === 'unreadable' && latest.problem.startsWith(`cannot read ${file}: it is 3221225472 bytes`), JSON.stringify(latest));
      assert.equal(await activeSha(app.root), one);
      const status = await testContext(app.root);
      await assert.rejects(STATUS.run(status.ctx, [], {}), (e: Error & { code?: string; exitCode?: number }) => {
        assert.deepEqual([e.code, e.exitCode], ['FS_ERROR', 10], e.stack);
        assert.ok(e.message.includes(file), e.message);
        return true;
      });
      await rm(file);
    }
    assert.match(loop.lines.join('\n'), /^error: cannot read .*pause\.json: .*\(EFBIG\): deploying nothing by itself until it is fixed or removed$/m);
  });

  test('rollback with an activations.jsonl larger than mfd ever writes refuses naming it (exit 10), active untouched', async (t) => {
    const app = await appFixture(t);
    await app.commitVersion(1);
    await deploy((await testContext(app.root)).ctx, undefined);
    await app.commitVersion(2);
    await deploy((await testContext(app.root)).ctx, undefined);
    const before = await readlink(join(app.root, 'active'));
    const file = join(app.root, '.mfd', 'activations.jsonl');
    await truncate(file, 3 * 2 ** 30);
    await assert.rejects(rollback((await testContext(app.root)).ctx, undefined), (e: Error & { code?: string; exitCode?: number }) => {
      assert.deepEqual([e.code, e.exitCode], ['FS_ERROR', 10], e.stack);
      assert.ok(e.message.includes(file), e.message);
      return true;
    });
    assert.equal(await readlink(join(app.root, 'active')), before);
  });

  test('an unreachable remote is said once, polls back off (said once), and recovery is said once', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const loop = await appLoop(app);
    await loop.pollOnce();
    await rename(app.repo.bare, `${app.repo.bare}.away`);
    const controller = new AbortController();
    let polls = 0;
    let failedPolls = 0;
    const lines = loop.lines;
    await runPoller({
      intervalMs: 10,
      signal: controller.signal,
      random: () => 0.5,
      log: (level, message) => lines.push(`${level}: ${message}`),
      poll: async () => {
        polls++;
        if (failedPolls === 4 && !(await exists(app.repo.bare))) await rename(`${app.repo.bare}.away`, app.repo.bare);
        await loop.pollOnce();
        const failed = loop.latest()?.kind === 'resolve-failed';
        if (failed) failedPolls++;
        if (polls === 8) controller.abort();
        return failed;
      },
    });
    assert.equal(failedPolls, 4);
    const text = lines.join('\n');
    assert.equal(lines.filter((l) => l.startsWith('warn: cannot resolve the branch head')).length, 1, text);
    assert.equal(lines.filter((l) => l.startsWith('warn: backing off: next poll in 20ms')).length, 1, text);
    assert.equal(lines.filter((l) => l.startsWith('info: polls work again after 4 failed')).length, 1, text);
    assert.equal(lines.filter((l) => l.includes(`${one} is active (the remote answers again)`)).length, 1, text);
    assert.equal(loop.loop.lastRun()?.outcome, 'success');
  });
});
