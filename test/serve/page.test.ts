import { execFileSync } from 'node:child_process';
// The status page over real HTTP, in-process: the real webhook server with the page's routes, the
// real deploy loop on a real Context, real deploys from the real git server. What the page shows,
// how it escapes input, who may see it, and the live events of a deploy under way.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { commitHold, exists, holdConfig, until } from '../helpers/hold.ts';
import { deploy } from '../../src/run/deploy.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { send } from './deliveries.ts';
import { createAppLoop, type AppLoop } from '../../src/cd/app-loop.ts';
import { describeSkip } from '../../src/cd/cycle.ts';
import { parseConfig } from '../../src/config/config.ts';
import { ConfigInvalidError } from '../../src/errors/index.ts';
import { Secret } from '../../src/config/secret.ts';
import { LiveLog, LiveRuns } from '../../src/serve/events.ts';
import { checkAccess, pageAccessOf } from '../../src/serve/page-access.ts';
import { statusRoutes } from '../../src/serve/page-routes.ts';
import { startWebhookServer, type WebhookServer } from '../../src/serve/server.ts';
import { layoutOf as layoutAt } from '../../src/state/layout.ts';
import { writePause } from '../../src/state/pause.ts';

const node = JSON.stringify(process.execPath);
const BUILD_PRINTS = `console.log('<script>alert("build")</script> & done')`;

interface PageServer {
  server: WebhookServer;
  app: AppLoop;
  lines: string[];
  /** One poll of the loop, awaited to its end. */
  poll(): Promise<void>;
}

/** As `mfd serve` wires it (src/commands/serve.ts), on 127.0.0.1 and a port the OS picks. */
async function pageServer(t: TestContext, fixture: AppFixture, env: Record<string, string> = {}): Promise<PageServer> {
  const { ctx } = await testContext(fixture.root, { env });
  const lines: string[] = [];
  const live = new LiveRuns({ now: ctx.now });
  const log = new LiveLog((l) => lines.push(l), live);
  const app = createAppLoop(ctx, log);
  const access = await pageAccessOf(ctx.config.serve, { file: ctx.config.file, env: ctx.env, warn: (m) => lines.push(`warn: ${m}`) });
  const latest = () => {
    const o = app.latest();
    return o && { kind: o.kind, text: describeSkip(o) };
  };
  const page = statusRoutes({ access, live, layout: ctx.layout, status: { ctx, branch: 'refs/heads/main', live: () => live.run, latest } });
  const server = await startWebhookServer({
    listen: { host: '127.0.0.1', port: 0 },
    secret: new Secret('page-test-secret'),
    maxBodyBytes: 64 * 1024,
    watch: { ref: 'refs/heads/main', repository: fixture.url },
    loop: app.loop,
    log,
    page,
  });
  t.after(async () => {
    await server.close();
    await app.loop.stop(30_000);
  });
  return { server, app, lines, poll: async () => { app.loop.poke({ kind: 'poll' }); await app.loop.idle(); } };
}

const get = (url: string, headers: Record<string, string> = {}) => send(url, { method: 'GET', headers });

/** Server-sent events as they arrive, parsed; `next` waits (bounded) for one that matches. */
function eventStream(url: string): { next: (pick: (e: { event: string; data: any }) => boolean, what: string) => Promise<{ event: string; data: any }>; close: () => void; response: Promise<IncomingMessage> } {
  const seen: { event: string; data: any }[] = [];
  let buffer = '';
  let req: ReturnType<typeof request>;
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req = request(url, { method: 'GET' }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data !== undefined) seen.push({ event, data: JSON.parse(data) });
        }
      });
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
  return {
    response,
    close: () => req.destroy(),
    async next(pick, what) {
      let found: { event: string; data: any } | undefined;
      await until(async () => (found = seen.find(pick)) !== undefined, `an event: ${what} (saw ${JSON.stringify(seen.map((e) => e.event))})`, 60_000);
      return found!;
    },
  };
}

describe('serve/page', () => {
  test('after a deploy by the loop, / and /api/status show the active sha, the run with its trigger and outcome, and link its log', async (t) => {
    const fixture = await appFixture(t);
    await fixture.writeConfig(`[repo]\nurl = "${fixture.url}"\n[build]\ncommands = [[${node}, "build.js"], [${node}, "-e", ${JSON.stringify(BUILD_PRINTS)}]]\n`);
    const sha = await fixture.commitVersion(1);
    const { server, poll } = await pageServer(t, fixture);
    await poll();

    const api = await get(`${server.url}/api/status`);
    assert.equal(api.status, 200, api.body);
    const doc = api.json as any;
    assert.equal(doc.active.sha, sha);
    assert.equal(doc.active.ref, 'refs/heads/main');
    assert.equal(doc.active.health, 'unchecked', 'no unit and no health check: nothing said it came up');
    assert.equal(doc.running, null);
    assert.equal(doc.runs.length, 1);
    assert.deepEqual([doc.runs[0].trigger, doc.runs[0].outcome, doc.runs[0].sha], ['poll', 'success', sha]);
    assert.equal(doc.runs[0].log, `runs/${doc.runs[0].runId}/log`);
    assert.equal(doc.paused, null);

    const page = await get(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'] as string, /^text\/html/);
    assert.match(page.headers['content-security-policy'] as string, /default-src 'none'/);
    assert.match(page.body, /<meta name="viewport" content="width=device-width/);
    assert.ok(page.body.includes(sha), 'the active sha is on the page');
    assert.match(page.body, /not checked/);
    assert.ok(page.body.includes(`href="runs/${doc.runs[0].runId}/log"`));
    assert.doesNotMatch(page.body, /<(link|img|iframe)\b|src="http/, 'no external assets');

    const log = await get(`${server.url}/${doc.runs[0].log}`);
    assert.equal(log.status, 200);
    assert.ok(log.body.includes('&lt;script&gt;alert(&quot;build&quot;)&lt;/script&gt; &amp; done'), 'the build output is escaped');
    assert.ok(!log.body.includes('<script>alert'), 'no markup a build printed reaches the page');
  });

  test('a pause reason and a quarantine reason are escaped; a failed commit shows as quarantined', async (t) => {
    const fixture = await appFixture(t);
    const { server, poll } = await pageServer(t, fixture);
    const bad = await fixture.commitVersion(1, { fail: true });
    await poll();
    const reason = `<img src=x onerror="alert('pause')"> & more`;
    await writePause(layoutOf(fixture), { user: 'alice', host: 'web1', at: new Date().toISOString(), reason });
    const page = await get(`${server.url}/`);
    assert.ok(page.body.includes('&lt;img src=x onerror=&quot;alert(&#39;pause&#39;)&quot;&gt; &amp; more'), page.body);
    assert.ok(!page.body.includes('<img'), 'no markup from input');
    assert.match(page.body, /Paused by alice@web1/);
    assert.ok(page.body.includes(bad), 'the failed commit is named');
    assert.match(page.body, /Quarantined/);
    const doc = (await get(`${server.url}/api/status`)).json as any;
    assert.equal(doc.quarantined[0].sha, bad);
    assert.equal(doc.runs[0].outcome, 'failed');
    assert.equal(doc.runs[0].error.code, 'BUILD_FAILED');
    assert.deepEqual([doc.runs[0].sha, doc.runs[0].commit], [null, bad], 'a failed run names the commit it tried, from its record');
    assert.equal(doc.paused.reason, reason, 'JSON carries the text as it is');
  });

  test('a run id is checked as input: a path, an encoded path or a link is never read', async (t) => {
    const fixture = await appFixture(t);
    await fixture.commitVersion(1);
    const { server, poll } = await pageServer(t, fixture);
    await poll();
    await writeFile(join(fixture.root, '..', 'outside.log'), 'SECRET OUTSIDE');
    await symlink(join(fixture.root, '..', 'outside.log'), join(fixture.root, '.mfd', 'logs', 'linked.log'));
    // A fifo in a log's place: opened without waiting for a writer, and refused.
    execFileSync('mkfifo', [join(fixture.root, '.mfd', 'logs', 'fifo.log')]);
    for (const [path, status] of [
      ['/runs/fifo/log', 404],
      ['/runs/..%2F..%2Foutside/log', 400],
      ['/runs/.hidden/log', 400],
      ['/runs/a%zz/log', 400],
      ['/runs/linked/log', 404],
      ['/runs/20990101T000000Z-deploy-1/log', 404],
      ['/runs/../../outside/log', 404],
    ] as const) {
      const answer = await get(`${server.url}${path}`);
      assert.equal(answer.status, status, `${path}: ${answer.body}`);
      assert.ok(!answer.body.includes('SECRET OUTSIDE'), path);
    }
    assert.equal((await send(`${server.url}/api/status`, { method: 'POST' })).status, 405);
  });

  test('/runs/<id>, where a commit status and MFD_RUN_URL point, shows the run as /runs/<id>/log does', async (t) => {
    const fixture = await appFixture(t);
    await fixture.commitVersion(1);
    const { server, poll } = await pageServer(t, fixture);
    await poll();
    const runId = ((await get(`${server.url}/api/status`)).json as any).runs[0].runId as string;
    const run = await get(`${server.url}/runs/${encodeURIComponent(runId)}`);
    const log = await get(`${server.url}/runs/${encodeURIComponent(runId)}/log`);
    assert.equal(run.status, 200, run.body);
    assert.equal(run.body, log.body);
    assert.equal((await get(`${server.url}/runs/..%2F..%2Foutside`)).status, 400);
  });

  test('state that cannot be read answers 500 saying what and where, and the server goes on', async (t) => {
    const fixture = await appFixture(t);
    const { server } = await pageServer(t, fixture);
    await mkdir(join(fixture.root, '.mfd', 'history.jsonl'), { recursive: true });
    for (const path of ['/', '/api/status']) {
      const answer = await get(`${server.url}${path}`);
      assert.equal(answer.status, 500, answer.body);
      assert.match(answer.body, /cannot read the app's state in \S*\.mfd: cannot read \S*history\.jsonl: it is a directory.*EISDIR/);
      assert.doesNotMatch(answer.body, /internal error/);
    }
    assert.equal((await get(`${server.url}/healthz`)).status, 200);
  });

  test('during a deploy, /api/events streams its live step and build output, then its end', async (t) => {
    const fixture = await appFixture(t);
    await fixture.writeConfig(holdConfig(fixture.url));
    const dir = join(fixture.root, '..');
    const release = join(dir, 'release');
    const started = join(dir, 'started');
    const sha = await commitHold(fixture, 1);
    const { server, app } = await pageServer(t, fixture, { T_WAIT_FOR: release, T_STARTED: started });
    const events = eventStream(`${server.url}/api/events`);
    t.after(() => events.close());
    const res = await events.response;
    assert.match(res.headers['content-type']!, /^text\/event-stream/);
    await events.next((e) => e.event === 'run' && e.data === null, 'the idle state at connect');
    app.loop.poke({ kind: 'poll' });
    const building = await events.next((e) => e.event === 'run' && e.data?.steps.some((s: any) => s.step === 'build' && s.state === 'running') && e.data.runId, 'the build under way');
    assert.match(building.data.runId, /^\d{8}T\d{6}Z-deploy-\d+$/);
    assert.deepEqual(building.data.steps.filter((s: any) => s.state === 'ok').map((s: any) => s.step), ['resolve', 'fetch', 'checkout']);
    const doc = (await get(`${server.url}/api/status`)).json as any;
    assert.equal(doc.running.by, 'loop');
    assert.equal(doc.running.log, `runs/${building.data.runId}/log`);
    const page = await get(`${server.url}/`);
    assert.match(page.body, /Deploying: build/);
    await writeFile(release, '');
    const finished = await events.next((e) => e.event === 'finished', 'the end of the run');
    assert.deepEqual(finished.data, { outcome: 'success', sha });
    await app.loop.idle();
    const after = (await get(`${server.url}/api/status`)).json as any;
    assert.equal(after.running, null);
    assert.equal(after.runs[0].runId, building.data.runId, 'the live run is the one the history recorded');
  });
});

describe('serve/page: a deploy typed in a shell', () => {
  test('while a manual deploy holds the lock, the page names it as the running deploy, not the loop\'s', async (t) => {
    const fixture = await appFixture(t);
    await fixture.writeConfig(holdConfig(fixture.url));
    const dir = join(fixture.root, '..');
    const release = join(dir, 'release');
    const started = join(dir, 'started');
    await commitHold(fixture, 1);
    const { server } = await pageServer(t, fixture);
    const manual = await testContext(fixture.root, { env: { T_WAIT_FOR: release, T_STARTED: started, USER: 'alice' } });
    const deploying = deploy(manual.ctx, 'main');
    try {
      await until(() => exists(started), 'the manual build to start');
      const doc = (await get(`${server.url}/api/status`)).json as any;
      assert.equal(doc.running.by, 'other');
      assert.equal(doc.running.command, 'deploy');
      assert.equal(doc.running.ref, 'main');
      assert.match(doc.running.holder, /^alice@/);
      const page = await get(`${server.url}/`);
      assert.match(page.body, /mfd deploy main by alice@\S+ pid \d+, since/);
    } finally {
      await writeFile(release, '');
      await deploying;
    }
    assert.equal(((await get(`${server.url}/api/status`)).json as any).running, null);
  });
});

const layoutOf = (fixture: AppFixture) => layoutAt(fixture.root, process.pid);

describe('serve/page over HTTP: who may see it', () => {
  const withServe = async (t: TestContext, lines: string) => {
    const fixture = await appFixture(t);
    await fixture.writeConfig(`[repo]\nurl = "${fixture.url}"\n[build]\ncommands = []\n[serve]\n${lines}\n`);
    return (await pageServer(t, fixture)).server;
  };

  test('beyond loopback without status_page = true: /, /api/status and the logs answer 404 with the reason; /healthz and /webhook still work', async (t) => {
    const server = await withServe(t, 'listen = "0.0.0.0:8090"');
    for (const path of ['/', '/api/status', '/api/events', '/runs/20260101T000000Z-deploy-1/log']) {
      const answer = await get(`${server.url}${path}`);
      assert.equal(answer.status, 404, path);
      assert.match(answer.body, /the status page is off: mfd serve listens on 0\.0\.0\.0:8090, beyond this host/, path);
    }
    assert.equal((await get(`${server.url}/healthz`)).status, 200);
    const webhook = await send(`${server.url}/webhook`, { body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(webhook.status, 401, 'an unsigned delivery is refused as before');
  });

  test('served to this host only, a request whose Host is not a loopback name (DNS rebinding: a web page\'s script reaching 127.0.0.1) is refused; /healthz still answers', async (t) => {
    const server = await withServe(t, '');
    for (const path of ['/', '/api/status', '/api/events', '/runs/20260101T000000Z-deploy-1/log']) {
      const answer = await get(`${server.url}${path}`, { host: `rebind.example:${server.port}` });
      assert.equal(answer.status, 403, `${path}: ${answer.body}`);
      // JSON for /api/*, a plain line for a browser's paths.
      assert.match(String(answer.json.reason ?? answer.body), /Host "rebind\.example:\d+" is not a name of this host/, path);
    }
    // What a browser on the server, or through an SSH tunnel to another local port, sends.
    for (const host of [`127.0.0.1:${server.port}`, 'localhost:9000', 'LOCALHOST', `[::1]:${server.port}`]) {
      assert.equal((await get(`${server.url}/api/status`, { host })).status, 200, host);
    }
    assert.equal((await get(`${server.url}/healthz`, { host: 'rebind.example' })).status, 200);
  });

  test('with status_token: 401 and a Basic challenge without it; a bearer token or the basic-auth password lets in; /healthz asks nothing', async (t) => {
    const server = await withServe(t, 'status_token = "page-token-77a1"');
    for (const path of ['/', '/api/status', '/runs/x/log']) {
      const answer = await get(`${server.url}${path}`);
      assert.equal(answer.status, 401, path);
      assert.match(String(answer.headers['www-authenticate']), /Basic realm="mfd status"/);
      assert.ok(!answer.body.includes('page-token-77a1'));
    }
    assert.equal((await get(`${server.url}/`, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await get(`${server.url}/api/status`, { authorization: 'Bearer page-token-77a1' })).status, 200);
    const basic = await get(`${server.url}/`, { authorization: `Basic ${Buffer.from('me:page-token-77a1').toString('base64')}` });
    assert.equal(basic.status, 200);
    assert.match(basic.body, /Nothing is deployed yet/);
    assert.equal((await get(`${server.url}/healthz`)).status, 200);
  });
});

describe('serve/page-access', () => {
  const serveOf = (lines: string) => parseConfig(`[repo]\nurl = "https://git.example.com/me/app.git"\n[build]\ncommands = []\n[serve]\n${lines}\n`, { file: '/srv/app/mfd.toml', env: {} }).config.serve;
  const accessOf = (lines: string) => pageAccessOf(serveOf(lines), { file: '/srv/app/mfd.toml', env: {}, warn: () => {} });

  test('on a loopback address the page is on; beyond it, off with the reason unless status_page = true; false turns it off', async () => {
    assert.deepEqual(checkAccess({}, await accessOf('listen = "127.0.0.1:8090"')), { ok: true });
    const off = checkAccess({}, await accessOf('listen = "0.0.0.0:8090"'));
    assert.equal(off.ok, false);
    assert.ok(!off.ok && off.status === 404 && /listens on 0\.0\.0\.0:8090, beyond this host.*status_page = true/.test(off.reason), JSON.stringify(off));
    assert.deepEqual(checkAccess({}, await accessOf('listen = "0.0.0.0:8090"\nstatus_page = true')), { ok: true });
    assert.equal(checkAccess({}, await accessOf('status_page = false')).ok, false);
  });

  test('a request through a proxy counts as from beyond this host unless status_page = true', async () => {
    const verdict = checkAccess({ 'x-forwarded-for': '203.0.113.9' }, await accessOf(''));
    assert.ok(!verdict.ok && verdict.status === 404 && /through a proxy/.test(verdict.reason));
    assert.deepEqual(checkAccess({ 'x-forwarded-for': '203.0.113.9' }, await accessOf('status_page = true')), { ok: true });
  });

  test('with status_token: 401 and both challenges without it or with a wrong one; the token as bearer or basic password lets in', async () => {
    const access = await accessOf('status_token = "tok-3e1f"');
    for (const authorization of [undefined, 'Bearer nope', 'Bearer tok-3e1', `Basic ${Buffer.from('mfd:wrong').toString('base64')}`, 'Basic !!!', 'Digest tok-3e1f']) {
      const verdict = checkAccess(authorization ? { authorization } : {}, access);
      assert.ok(!verdict.ok && verdict.status === 401, `${authorization}: ${JSON.stringify(verdict)}`);
      assert.ok(!verdict.ok && verdict.headers!['www-authenticate']!.some((h) => h.startsWith('Basic ')));
      assert.ok(!JSON.stringify(verdict).includes('tok-3e1f'), 'the token is in no answer');
    }
    assert.deepEqual(checkAccess({ authorization: 'Bearer tok-3e1f' }, access), { ok: true });
    assert.deepEqual(checkAccess({ authorization: `Basic ${Buffer.from('anyone:tok-3e1f').toString('base64')}` }, access), { ok: true });
  });

  test('the [serve] keys: status_token and status_token_file together are an error, and a bad token value is never echoed', () => {
    const issues = (lines: string) => {
      try {
        serveOf(lines);
      } catch (error) {
        assert.ok(error instanceof ConfigInvalidError);
        return new Map(error.issues.map((i) => [i.path, i.message]));
      }
      assert.fail('expected a config error');
    };
    assert.match(issues('status_token = "a"\nstatus_token_file = "b"').get('serve.status_token_file')!, /either serve\.status_token or serve\.status_token_file/);
    assert.match(issues('status_page = "yes"').get('serve.status_page')!, /boolean/);
    const secret = issues('status_token = ["hunter2-token"]').get('serve.status_token')!;
    assert.ok(!secret.includes('hunter2'), secret);
    assert.equal(serveOf('status_token = "t"').statusToken?.kind, 'inline');
    assert.equal(JSON.stringify(serveOf('status_token = "visible-or-not"')).includes('visible-or-not'), false, 'the token is a Secret');
  });

  test('status_token_file is read at start, relative to mfd.toml or from ${CREDENTIALS_DIRECTORY}; empty or missing is a config error; readable by others warns', async (t) => {
    const root = await tmpRoot(t);
    const file = join(root, 'mfd.toml');
    const serve = (lines: string) => parseConfig(`[repo]\nurl = "https://git.example.com/me/app.git"\n[build]\ncommands = []\n[serve]\n${lines}\n`, { file, env: {} }).config.serve;
    const warnings: string[] = [];
    const read = (lines: string, env: Record<string, string> = {}) => pageAccessOf(serve(lines), { file, env, warn: (m) => warnings.push(m) });
    await writeFile(join(root, 'token'), 'tok-from-file\n', { mode: 0o600 });
    assert.equal((await read('status_token_file = "token"')).token?.reveal(), 'tok-from-file');
    assert.deepEqual(warnings, []);
    assert.equal((await read('status_token_file = "${CREDENTIALS_DIRECTORY}/token"', { CREDENTIALS_DIRECTORY: root })).token?.reveal(), 'tok-from-file');
    await chmod(join(root, 'token'), 0o644);
    await read('status_token_file = "token"');
    assert.match(warnings[0] ?? '', /token is readable by other users \(mode 0644\).*chmod 600/);
    warnings.length = 0;
    await writeFile(file, '', { mode: 0o644 });
    await read('status_token = "inline-tok"');
    assert.match(warnings[0] ?? '', /mfd\.toml is readable by other users \(mode 0644\) and it holds the status page's token/);
    await writeFile(join(root, 'empty'), '\n');
    for (const [lines, why] of [['status_token_file = "empty"', /empty is empty/], ['status_token_file = "nope"', /cannot read .*nope: ENOENT/], ['status_token_file = "${CREDENTIALS_DIRECTORY}/t"', /CREDENTIALS_DIRECTORY\} is not set/], ['status_token_file = "${HOME}/t"', /\$\{HOME\} is not expanded/]] as const) {
      await assert.rejects(read(lines), (error: unknown) => error instanceof ConfigInvalidError && error.issues[0]!.path === 'serve.status_token_file' && why.test(error.issues[0]!.message), lines);
    }
  });
});
