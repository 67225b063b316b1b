// `mfd serve` as a user runs it: the built CLI in a private pid namespace (it is stopped with
// SIGTERM), the real git server, real deploys. A signed push deploys; a burst of pushes during a
// deploy collapses into at most one more; SIGTERM lets a deploy finish and exits 0 with the lock free.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile, readlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { eventually } from '../helpers/hold.ts';
import { MFD, mfd } from '../helpers/cli.ts';
import { freePort } from '../helpers/http.ts';
import { runInPidNamespace, skipUnlessPidNamespace, type Action } from '../helpers/pidns.ts';
import { deliver, github, githubExample, send } from '../serve/deliveries.ts';

const SECRET = 'e2e-webhook-secret-41d7';
const node = JSON.stringify(process.execPath);
// A build that notes each start in builds.log, then waits until the test writes `release`.
const HELD_BUILD = `const fs = require('fs'), path = require('path');
const dir = process.env.T_DIR;
fs.appendFileSync(path.join(dir, 'builds.log'), process.env.MFD_COMMIT + '\\n');
const wait = () => fs.existsSync(path.join(dir, 'release')) ? fs.writeFileSync('built', process.env.MFD_COMMIT) : setTimeout(wait, 10);
wait();`;

const exists = (path: string) => access(path).then(() => true, () => false);


// A second build command that keeps the environment builds get, for the test to read.
const DUMP_ENV = `[${node}, "-e", "require('fs').writeFileSync('env.json', JSON.stringify(process.env))"]`;

async function serveApp(t: TestContext, options: { held?: boolean } = {}): Promise<{ app: AppFixture; port: number; url: string }> {
  const app = await appFixture(t);
  const port = await freePort();
  const build = options.held ? `[[${node}, "held.js"]]` : `[[${node}, "build.js"], ${DUMP_ENV}]`;
  await app.writeConfig(`[repo]\nurl = "${app.url}"\n\n[build]\ncommands = ${build}\n\n[serve]\nlisten = "127.0.0.1:${port}"\n`);
  return { app, port, url: `http://127.0.0.1:${port}` };
}

const serve = (app: AppFixture, env: Record<string, string> = {}): Action => ({
  op: 'start', id: 'serve', argv: [process.execPath, MFD, 'serve'], cwd: app.root, env: { NO_COLOR: '1', MFD_WEBHOOK_SECRET: SECRET, ...env },
});

/** A GitHub push of `ref` (a real example payload) for the fixture's repository. */
function pushOf(app: AppFixture, ref = 'refs/heads/main', id?: string) {
  const payload = githubExample('push', (p) => p.ref === 'refs/heads/master');
  payload.ref = ref;
  payload.repository = { ...(payload.repository as object), full_name: 'test/app', clone_url: app.url, html_url: app.url.replace(/\.git$/, '') };
  return github('push', payload, SECRET, id ? { id } : {});
}


const activeSha = async (app: AppFixture) => (await readlink(join(app.root, 'active')).catch(() => '')).split('_').pop();
const activeIs = (app: AppFixture, sha: string) => eventually(`active to be ${sha.slice(0, 12)}`, async () => ((await activeSha(app)) === sha ? true : undefined), 60_000);
const historyOf = async (app: AppFixture) => (await readFile(join(app.root, '.mfd', 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('mfd serve', () => {
  test('refuses to start without a secret: exit 2, naming the three ways to give one', async (t) => {
    const { app } = await serveApp(t);
    const r = await mfd(['serve'], { cwd: app.root, env: { MFD_WEBHOOK_SECRET: undefined } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: .*mfd serve needs a webhook secret/m);
    assert.match(r.stderr, /hint: .*MFD_WEBHOOK_SECRET.*secret_file.*\[serve\] secret/);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  });

  test('an address in use is a config error naming it (exit 2), not an internal error', async (t) => {
    const { app, port } = await serveApp(t);
    await app.commitVersion(1);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => taken.close(resolve)));
    const r = await mfd(['serve'], { cwd: app.root, env: { MFD_WEBHOOK_SECRET: SECRET } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: mfd serve cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use \\(EADDRINUSE\\)`, 'm'));
    assert.match(r.stderr, /hint: .*\[serve\] listen/);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  });

  test('a signed push deploys the pushed commit; after one whose build fails /healthz stays 200 with the failure, ?last_run is 503; SIGTERM then exits 0 with the lock free', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const { app, url } = await serveApp(t);
    const one = await app.commitVersion(1);
    const term = join(app.root, '..', 'term');
    let delivery = '';
    const running = runInPidNamespace([serve(app), { op: 'waitOutput', id: 'serve', text: 'serving webhooks on' }, { op: 'waitFile', path: term }, { op: 'signal', id: 'serve', signal: 'SIGTERM' }, { op: 'exit', id: 'serve' }]);
    try {
      // The first look at start deploys what was pushed while serve was down.
      await activeIs(app, one);
      const two = await app.commitVersion(2);
      const push = pushOf(app);
      delivery = push.headers['x-github-delivery']!;
      const answer = await eventually('mfd serve to answer', () => deliver(url, push));
      assert.equal(answer.status, 202, answer.body);
      assert.equal(answer.json.action, 'deploy');
      await activeIs(app, two);
      const health = await send(`${url}/healthz`, { method: 'GET' });
      assert.equal(health.status, 200, health.body);
      // A push whose build fails: active stays where it was, so /healthz (the server is up) stays 200
      // with the reason in its body; ?last_run, for monitoring, turns 503.
      const three = await app.commitVersion(3, { fail: true });
      assert.equal((await deliver(url, pushOf(app))).status, 202);
      const failed = await eventually('/healthz?last_run to report the failure', async () => {
        const h = await send(`${url}/healthz?last_run`, { method: 'GET' });
        return h.status === 503 ? h : undefined;
      });
      assert.deepEqual([failed.json.outcome, failed.json.sha, failed.json.code], ['failed', three, 'BUILD_FAILED']);
      assert.match(String(failed.json.reason), /exit status 3/);
      const up = await send(`${url}/healthz`, { method: 'GET' });
      assert.equal(up.status, 200, up.body);
      assert.deepEqual([up.json.ok, up.json.outcome, up.json.sha, up.json.code], [true, 'failed', three, 'BUILD_FAILED']);
      assert.equal(await activeSha(app), two);
    } finally {
      await writeFile(term, '');
    }
    const report = await running;
    const run = report.results.serve!;
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(report.leftover, []);
    assert.equal(await exists(join(app.root, '.mfd-deploy.lock')), false, 'the lock is free');
    assert.ok(!(run.stdout + run.stderr).includes(SECRET), 'the secret is in no output');
    const buildEnv = await readFile(join(app.root, 'active', 'env.json'), 'utf8');
    assert.ok(!buildEnv.includes(SECRET) && !buildEnv.includes('MFD_WEBHOOK_SECRET'), 'build commands do not get the secret');
    const history = await historyOf(app);
    assert.ok(!JSON.stringify(history).includes(SECRET));
    // The history says what started each run: the first look at start, then the delivery.
    assert.deepEqual(history.slice(0, 2).map((h) => [h.outcome, h.trigger]), [['success', 'poll'], ['success', `webhook ${delivery}`]]);
    assert.equal(history[2]!.outcome, 'failed');
  });

  test('50 valid pushes while a deploy runs yield at most two deploys, the last of the newest commit', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const { app, url } = await serveApp(t, { held: true });
    const dir = join(app.root, '..');
    const one = await app.commitVersion(1, { extra: { 'held.js': HELD_BUILD } });
    const term = join(dir, 'term');
    const running = runInPidNamespace([serve(app, { T_DIR: dir }), { op: 'waitOutput', id: 'serve', text: 'serving webhooks on' }, { op: 'waitFile', path: term }, { op: 'signal', id: 'serve', signal: 'SIGTERM' }, { op: 'exit', id: 'serve' }]);
    try {
      await eventually('the first build to start', async () => ((await readFile(join(dir, 'builds.log'), 'utf8')).includes(one) ? true : undefined));
      const two = await app.commitVersion(2, { extra: { 'held.js': HELD_BUILD } });
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => deliver(url, pushOf(app, 'refs/heads/main', `burst-${i}`))));
      assert.deepEqual([...new Set(answers.map((a) => `${a.status} ${String(a.json.action)}`))], ['202 deploy']);
      await writeFile(join(dir, 'release'), '');
      await activeIs(app, two);
      const builds = (await readFile(join(dir, 'builds.log'), 'utf8')).trim().split('\n');
      assert.deepEqual(builds, [one, two]);
    } finally {
      await writeFile(term, '');
    }
    const report = await running;
    assert.equal(report.results.serve!.code, 0, report.results.serve!.stderr);
    const deploys = (await historyOf(app)).filter((h) => h.command === 'deploy' && h.outcome === 'success');
    assert.equal(deploys.length, 2);
  });

  test('SIGTERM during a deploy lets it finish: exit 0, active on the new deployment, the lock free', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const { app } = await serveApp(t, { held: true });
    const dir = join(app.root, '..');
    const one = await app.commitVersion(1, { extra: { 'held.js': HELD_BUILD } });
    const report = await runInPidNamespace([
      serve(app, { T_DIR: dir }),
      { op: 'waitFile', path: join(dir, 'builds.log') },
      { op: 'signal', id: 'serve', signal: 'SIGTERM' },
      { op: 'waitOutput', id: 'serve', text: 'letting the deploy under way finish' },
      { op: 'start', id: 'release', argv: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(join(dir, 'release'))}, '')`], cwd: dir },
      { op: 'exit', id: 'release' },
      { op: 'exit', id: 'serve', ms: 60_000 },
    ]);
    const run = report.results.serve!;
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(report.leftover, []);
    assert.equal(await activeSha(app), one);
    assert.equal(await readFile(join(app.root, 'active', 'built'), 'utf8'), one);
    assert.equal(await exists(join(app.root, '.mfd-deploy.lock')), false, 'the lock is free');
  });
});
