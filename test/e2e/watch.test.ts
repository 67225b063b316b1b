// `mfd watch`, the real built CLI in a private pid namespace (it is stopped by signals): it deploys
// what is pushed by itself, and SIGTERM lets a deploy under way finish (or, again, stops it cleanly),
// leaving `active` good and the lock free, with exit 0.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { MFD } from '../helpers/cli.ts';
import { testContext } from '../helpers/context.ts';
import { commitHold, holdConfig } from '../helpers/hold.ts';
import { runInPidNamespace, skipUnlessPidNamespace, type Action } from '../helpers/pidns.ts';
import { deploy } from '../../src/run/deploy.ts';

const exists = (path: string) => access(path).then(() => true, () => false);
const watch = (app: AppFixture, env: Record<string, string> = {}): Action =>
  ({ op: 'start', id: 'watch', argv: [process.execPath, MFD, 'watch'], cwd: app.root, env: { NO_COLOR: '1', USER: 'deploy', ...env } });
/** A process of the namespace that does one thing outside mfd (a push, a file), as a person would. */
const run = (id: string, cwd: string, argv: string[]): Action => ({ op: 'start', id, argv, cwd });


async function history(app: AppFixture): Promise<Record<string, any>[]> {
  return (await readFile(join(app.root, '.mfd', 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
}

const WATCH_EVERY_SECOND = '\n[watch]\ninterval = "1s"\n';

describe('mfd watch (e2e)', () => {
  test('deploys the pushed branch head by itself, then the next push, and SIGTERM ends it with 0', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const node = JSON.stringify(process.execPath);
    const app = await appFixture(t, { config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "build.js"]]\n${WATCH_EVERY_SECOND}` });
    const one = await app.commitVersion(1);
    // Committed but not pushed: the push happens while mfd watch runs.
    const two = await app.repo.commit({ 'version.txt': '2\n' }, 'version 2');
    const r = await runInPidNamespace([
      watch(app),
      { op: 'waitOutput', id: 'watch', text: `deployed ${one}` },
      run('push', app.repo.work, ['git', 'push', '--quiet', '--mirror', app.repo.bare]),
      { op: 'waitOutput', id: 'watch', text: `deployed ${two}` },
      { op: 'signal', id: 'watch', signal: 'SIGTERM' },
      { op: 'exit', id: 'watch' },
    ]);
    const out = r.results.watch!;
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(r.leftover, []);
    assert.match(out.stderr, /^info: watching http:\/\/127\.0\.0\.1:\d+\/app\.git \(the remote's HEAD\) every 1s$/m);
    // The run that printed "deployed" may still be pruning when the signal comes: either is right.
    assert.match(out.stderr, /^info: SIGTERM: no more polls; (nothing under way|letting the deploy under way finish .*)$/m);
    assert.match(out.stderr, /^info: stopped$/m);
    assert.doesNotMatch(out.stderr, /internal error|\n\s+at /);
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${two}$`));
    const runs = await history(app);
    assert.deepEqual(runs.map((h) => [h.sha, h.outcome, h.trigger, h.user]), [[one, 'success', 'poll', 'deploy'], [two, 'success', 'poll', 'deploy']]);
    assert.equal(await exists(join(app.root, '.mfd-deploy.lock')), false);
  });

  /** An app deployed once, and a second commit whose build waits for a file before it ends. */
  async function heldScene(t: TestContext) {
    const app = await appFixture(t, { config: (url) => `${holdConfig(url)}${WATCH_EVERY_SECOND}` });
    const old = await commitHold(app, 1);
    await deploy((await testContext(app.root)).ctx, undefined);
    const next = await commitHold(app, 2);
    const tmp = join(app.root, '..');
    return { app, old, next, started: join(tmp, 'started'), release: join(tmp, 'release') };
  }

  test('SIGTERM during its deploy: no more polls, the deploy finishes, active is the new good one, the lock is free, exit 0', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const { app, next, started, release } = await heldScene(t);
    const r = await runInPidNamespace([
      watch(app, { T_STARTED: started, T_WAIT_FOR: release }),
      { op: 'waitFile', path: started },
      { op: 'signal', id: 'watch', signal: 'SIGTERM' },
      { op: 'waitOutput', id: 'watch', text: 'letting the deploy under way finish' },
      run('release', app.root, [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(release)}, '')`]),
      { op: 'exit', id: 'watch' },
    ]);
    const out = r.results.watch!;
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(r.leftover, []);
    assert.match(out.stderr, /^info: SIGTERM: no more polls; letting the deploy under way finish \(up to 1m; SIGTERM again stops it now\)$/m);
    assert.match(out.stderr, new RegExp(`^info: deployed ${next} `, 'm'));
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${next}$`));
    assert.equal(await exists(join(app.root, '.mfd-deploy.lock')), false);
    const last = (await history(app)).at(-1)!;
    assert.deepEqual([last.sha, last.outcome, last.trigger], [next, 'success', 'poll']);
  });

  // SIGHUP (the terminal of a watch run by hand went away) stops it as SIGTERM does: mfd has no reload.
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) test(`${signal} twice during its deploy: the deploy stops cleanly before activation, active stays good, the lock is free, exit 0`, async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const { app, old, started, release } = await heldScene(t);
    const r = await runInPidNamespace([
      watch(app, { T_STARTED: started, T_WAIT_FOR: release }),
      { op: 'waitFile', path: started },
      { op: 'signal', id: 'watch', signal },
      { op: 'waitOutput', id: 'watch', text: 'letting the deploy under way finish' },
      { op: 'signal', id: 'watch', signal },
      { op: 'exit', id: 'watch' },
    ]);
    const out = r.results.watch!;
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(r.leftover, [], 'the build was stopped with the deploy');
    assert.doesNotMatch(out.stderr, /internal error|\n\s+at /);
    assert.match(out.stderr, new RegExp(`^info: ${signal}: no more polls; letting the deploy under way finish \\(up to 1m; ${signal} again stops it now\\)$`, 'm'));
    assert.match(out.stderr, new RegExp(`^error: deploy of [0-9a-f]{40} failed: INTERRUPTED: interrupted by ${signal} `, 'm'));
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${old}$`));
    assert.equal(await exists(join(app.root, '.mfd-deploy.lock')), false);
    const last = (await history(app)).at(-1)!;
    assert.deepEqual([last.outcome, last.trigger, last.error?.code], ['interrupted', 'poll', 'INTERRUPTED']);
    const leftovers = (await readFile(join(app.root, '.mfd', 'history.jsonl'), 'utf8')).includes('"building"');
    assert.equal(leftovers, false);
  });
});
