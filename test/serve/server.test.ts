import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Trigger } from '../../src/cd/trigger.ts';
import { Secret } from '../../src/config/secret.ts';
import { startWebhookServer, type WebhookServer } from '../../src/serve/server.ts';
import { deliver, gitea, giteaPush, github, githubExample, gitlab, gitlabPush, hmac, send } from './deliveries.ts';
import { PokeRecord } from './poke-record.ts';

const SECRET = 'test-webhook-secret-9f2c';
const MAX_BODY = 64 * 1024;


const pushTo = (ref: string) => {
  const payload = githubExample('push', (p) => p.ref === 'refs/heads/master');
  payload.ref = ref;
  return payload;
};

describe('serve/server', () => {
  let server: WebhookServer;
  const loop = new PokeRecord();
  const lines: string[] = [];
  before(async () => {
    server = await startWebhookServer({
      listen: { host: '127.0.0.1', port: 0 },
      secret: new Secret(SECRET),
      maxBodyBytes: MAX_BODY,
      watch: { ref: 'refs/heads/master', repository: 'Codertocat/Hello-World' },
      loop,
      log: { info: (m) => lines.push(`info: ${m}`), warn: (m, h) => lines.push(`warn: ${m}${h ? ` (${h})` : ''}`) },
    });
  });
  after(() => server.close());

  const pokesDuring = async (fn: () => Promise<void>): Promise<Trigger[]> => {
    const before = loop.pokes.length;
    await fn();
    return loop.pokes.slice(before);
  };

  test('a signed GitHub push to the watched branch answers 202 and then pokes the loop with its delivery id', async () => {
    const d = github('push', pushTo('refs/heads/master'), SECRET);
    const pokes = await pokesDuring(async () => {
      const answer = await deliver(server.url, d);
      assert.equal(answer.status, 202);
      assert.equal(answer.json.action, 'deploy');
    });
    assert.deepEqual(pokes, [{ kind: 'webhook', delivery: d.headers['x-github-delivery'] }]);
  });

  test('the form encoding (payload=) is read as well as JSON', async () => {
    const d = github('push', pushTo('refs/heads/master'), SECRET, { form: true });
    const pokes = await pokesDuring(async () => assert.equal((await deliver(server.url, d)).json.action, 'deploy'));
    assert.equal(pokes.length, 1);
  });

  test('a tag push, a branch deletion, another branch and another event answer 202 with the reason and poke nothing', async () => {
    const tag = githubExample('push', (p) => p.ref === 'refs/tags/simple-tag' && p.created === true);
    const deletion = githubExample('push', (p) => p.deleted === true);
    deletion.ref = 'refs/heads/master';
    const cases: [string, ReturnType<typeof github>, RegExp][] = [
      ['tag', github('push', tag, SECRET), /refs\/tags\/simple-tag is a tag/],
      ['deletion', github('push', deletion, SECRET), /refs\/heads\/master was deleted/],
      ['other branch', github('push', pushTo('refs/heads/feature'), SECRET), /refs\/heads\/feature is not the watched branch refs\/heads\/master/],
      ['other event', github('issues', githubExample('issues'), SECRET), /event "issues" is not a push/],
    ];
    const pokes = await pokesDuring(async () => {
      for (const [name, d, reason] of cases) {
        const answer = await deliver(server.url, d);
        assert.equal(answer.status, 202, name);
        assert.equal(answer.json.action, 'ignored', name);
        assert.match(String(answer.json.reason), reason, name);
      }
    });
    assert.deepEqual(pokes, []);
  });

  test('ping answers 200, and warns when the hook does not send push events', async () => {
    const all = githubExample('ping', (p) => Array.isArray((p.hook as { events?: string[] })?.events) && (p.hook as { events: string[] }).events.includes('*'));
    const noPush = githubExample('ping', (p) => !(p.hook as { events: string[] }).events.some((e) => e === 'push' || e === '*'));
    // The repository hook's example is for Octocoders/Hello-World: point it at the watched one.
    all.repository = pushTo('refs/heads/master').repository;
    const a = await deliver(server.url, github('ping', all, SECRET));
    assert.equal(a.status, 200);
    assert.equal(a.json.subscribesPush, true);
    const before = lines.length;
    const b = await deliver(server.url, github('ping', noPush, SECRET, { id: 'ping-no-push' }));
    assert.equal(b.status, 200);
    assert.equal(b.json.subscribesPush, false);
    assert.match(lines.slice(before).join('\n'), /warn: webhook github ping ping-no-push: the hook does not send push events/);
  });

  test('a missing or bad signature is 401, with a warning naming the delivery and the remote address', async () => {
    const d = github('push', pushTo('refs/heads/master'), SECRET, { id: 'forged-1' });
    const before = lines.length;
    const pokes = await pokesDuring(async () => {
      const bad = await deliver(server.url, { ...d, headers: { ...d.headers, 'x-hub-signature-256': `sha256=${hmac('guess', d.body)}` } });
      assert.equal(bad.status, 401);
      const { ['x-hub-signature-256']: _dropped, ...unsigned } = d.headers;
      const missing = await deliver(server.url, { body: d.body, headers: { ...unsigned, 'x-github-delivery': 'unsigned-1' } });
      assert.equal(missing.status, 401);
      // A body signed, then changed: the signature covers the raw bytes.
      const changed = await deliver(server.url, { ...d, body: d.body.replace('master', 'mastex') });
      assert.equal(changed.status, 401);
    });
    assert.deepEqual(pokes, []);
    const said = lines.slice(before).join('\n');
    assert.match(said, /warn: webhook delivery forged-1 from 127\.0\.0\.1: bad signature, refused \(401\)/);
    assert.match(said, /warn: webhook delivery unsigned-1 from 127\.0\.0\.1: no signature, refused \(401\)/);
  });

  test('a push for another repository is 403', async () => {
    const payload = pushTo('refs/heads/master');
    (payload.repository as Record<string, unknown>).full_name = 'someone/else';
    (payload.repository as Record<string, unknown>).clone_url = 'https://github.com/someone/else.git';
    (payload.repository as Record<string, unknown>).html_url = 'https://github.com/someone/else';
    (payload.repository as Record<string, unknown>).ssh_url = 'git@github.com:someone/else.git';
    const pokes = await pokesDuring(async () => {
      const answer = await deliver(server.url, github('push', payload, SECRET));
      assert.equal(answer.status, 403);
      assert.match(String(answer.json.reason), /someone\/else/);
    });
    assert.deepEqual(pokes, []);
  });

  test('a replayed delivery id is a no-op', async () => {
    const d = github('push', pushTo('refs/heads/master'), SECRET, { id: 'replayed-1' });
    const pokes = await pokesDuring(async () => {
      assert.equal((await deliver(server.url, d)).json.action, 'deploy');
      const again = await deliver(server.url, d);
      assert.equal(again.status, 202);
      assert.equal(again.json.action, 'replay');
    });
    assert.equal(pokes.length, 1);
  });

  test('a body over max_body is 413: at once when Content-Length says so, and while streaming when it does not', async () => {
    const declared = await new Promise<number>((resolve, reject) => {
      // Headers only: the server must answer without waiting for a body it will never read.
      const req = request(`${server.url}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(MAX_BODY + 1) } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.equal(declared, 413);
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', reject);
      // Past the limit in 1 KiB chunks, then no more: the answer must come before the body ends.
      const chunk = Buffer.alloc(1024, 0x20);
      for (let sent = 0; sent <= MAX_BODY + 1024; sent += chunk.length) req.write(chunk);
    });
    assert.equal(streamed, 413);
  });

  test('Expect: 100-continue (as curl sends for a large body): 413 instead of 100 when too large, else the delivery goes through', async () => {
    const continued = (length: number, body?: string) => new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
      let sawContinue = false;
      const d = github('push', pushTo('refs/heads/master'), SECRET);
      const headers = body === undefined ? { 'content-type': 'application/json', 'content-length': String(length), expect: '100-continue' } : { ...d.headers, 'content-length': String(Buffer.byteLength(d.body)), expect: '100-continue' };
      const req = request(`${server.url}/webhook`, { method: 'POST', headers }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, continued: sawContinue });
        if (body === undefined) req.destroy();
      });
      req.on('continue', () => {
        sawContinue = true;
        req.end(d.body);
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.deepEqual(await continued(MAX_BODY + 1), { status: 413, continued: false });
    const pokes = await pokesDuring(async () => assert.deepEqual(await continued(0, 'signed'), { status: 202, continued: true }));
    assert.equal(pokes.length, 1);
  });

  test('a wrong method is 405 with Allow, and an unknown path 404', async () => {
    const get = await send(`${server.url}/webhook`, { method: 'GET' });
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
    const post = await send(`${server.url}/healthz`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    assert.equal((await send(`${server.url}/hook`, { body: '{}' })).status, 404);
    assert.equal((await send(`${server.url}/`, { method: 'GET' })).status, 404);
  });

  test('a body that is not JSON is 400, and a content type that is neither JSON nor a form 415', async () => {
    const body = 'not json';
    const headers = { 'x-github-event': 'push', 'x-github-delivery': 'bad-json', 'x-hub-signature-256': `sha256=${hmac(SECRET, body)}` };
    assert.equal((await send(`${server.url}/webhook`, { headers: { ...headers, 'content-type': 'application/json' }, body })).status, 400);
    assert.equal((await send(`${server.url}/webhook`, { headers: { ...headers, 'x-github-delivery': 'text', 'content-type': 'text/plain' }, body })).status, 415);
  });

  test('Gitea deliveries: with X-Hub-Signature-256, with only X-Gitea-Signature, and forged', async () => {
    const push = giteaPush({ ref: 'refs/heads/master', cloneUrl: 'https://gitea.example.com/Codertocat/Hello-World.git', fullName: 'Codertocat/Hello-World' });
    const pokes = await pokesDuring(async () => {
      assert.equal((await deliver(server.url, gitea('push', push, SECRET))).json.action, 'deploy');
      assert.equal((await deliver(server.url, gitea('push', push, SECRET, { hubHeader: false }))).json.action, 'deploy');
      assert.equal((await deliver(server.url, gitea('push', push, 'wrong', { hubHeader: false }))).status, 401);
      const deleted = giteaPush({ ref: 'refs/heads/master', cloneUrl: 'https://gitea.example.com/Codertocat/Hello-World.git', fullName: 'Codertocat/Hello-World', deleted: true });
      assert.match(String((await deliver(server.url, gitea('push', deleted, SECRET))).json.reason), /was deleted/);
    });
    assert.equal(pokes.length, 2);
    assert.ok(pokes.every((p) => p.kind === 'webhook'));
  });

  test('Forgejo deliveries: its own headers and bare-hex signature, and a replay by X-Forgejo-Delivery', async () => {
    const push = giteaPush({ ref: 'refs/heads/master', cloneUrl: 'https://codeberg.org/Codertocat/Hello-World.git', fullName: 'Codertocat/Hello-World' });
    const body = JSON.stringify(push);
    const headers = {
      'content-type': 'application/json',
      'x-forgejo-event': 'push',
      'x-forgejo-event-type': 'push',
      'x-forgejo-delivery': 'fj-1',
      'x-forgejo-signature': hmac(SECRET, body),
      'x-gitea-event': 'push',
      'x-gitea-delivery': 'fj-1',
      'x-gitea-signature': hmac(SECRET, body),
    };
    const before = lines.length;
    const pokes = await pokesDuring(async () => {
      assert.equal((await deliver(server.url, { headers, body })).json.action, 'deploy');
      assert.equal((await deliver(server.url, { headers, body })).json.action, 'replay');
      const forged = { ...headers, 'x-forgejo-delivery': 'fj-2', 'x-forgejo-signature': hmac('guess', body) };
      assert.equal((await deliver(server.url, { headers: forged, body })).status, 401);
    });
    assert.deepEqual(pokes, [{ kind: 'webhook', delivery: 'fj-1' }]);
    assert.match(lines.slice(before).join('\n'), /info: webhook forgejo push fj-1: push to refs\/heads\/master, deploy loop poked/);
  });

  test('GitLab deliveries: a push deploys, a tag push and a deletion are ignored, a wrong token is 401', async () => {
    const url = 'https://gitlab.example.com/codertocat/hello-world.git';
    const path = 'Codertocat/Hello-World';
    const pokes = await pokesDuring(async () => {
      const push = gitlab('Push Hook', gitlabPush({ ref: 'refs/heads/master', httpUrl: url, path }), SECRET, { id: 'gl-1' });
      assert.equal((await deliver(server.url, push)).json.action, 'deploy');
      const tag = await deliver(server.url, gitlab('Tag Push Hook', gitlabPush({ ref: 'refs/tags/v1', httpUrl: url, path }), SECRET));
      assert.match(String(tag.json.reason), /is a tag/);
      const deletion = await deliver(server.url, gitlab('Push Hook', gitlabPush({ ref: 'refs/heads/master', httpUrl: url, path, deleted: true }), SECRET));
      assert.match(String(deletion.json.reason), /was deleted/);
      assert.equal((await deliver(server.url, gitlab('Push Hook', gitlabPush({ ref: 'refs/heads/master', httpUrl: url, path }), `${SECRET}x`))).status, 401);
    });
    assert.deepEqual(pokes, [{ kind: 'webhook', delivery: 'gl-1' }]);
  });

  test('/healthz is 200 before any run, after a success and after a failure (the reason in its body); ?last_run is 503 after a failure', async () => {
    loop.last = undefined;
    const none = await send(`${server.url}/healthz`, { method: 'GET' });
    assert.equal(none.status, 200);
    assert.equal((await send(`${server.url}/healthz?last_run`, { method: 'GET' })).status, 200);
    loop.last = { outcome: 'success', sha: 'a'.repeat(40), at: 1_700_000_000_000, error: null };
    const ok = await send(`${server.url}/healthz`, { method: 'GET' });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.sha, 'a'.repeat(40));
    assert.equal((await send(`${server.url}/healthz?last_run`, { method: 'GET' })).status, 200);
    loop.last = { outcome: 'failed', sha: 'b'.repeat(40), at: 1_700_000_000_000, error: { code: 'BUILD_FAILED', message: 'build command ["make"] failed with exit status 2' } };
    // The server and its loop are up, and the previous deployment still serves: a load balancer must keep it.
    const up = await send(`${server.url}/healthz`, { method: 'GET' });
    assert.equal(up.status, 200);
    assert.deepEqual([up.json.ok, up.json.outcome, up.json.sha, up.json.code], [true, 'failed', 'b'.repeat(40), 'BUILD_FAILED']);
    assert.match(String(up.json.reason), /exit status 2/);
    assert.equal((await send(`${server.url}/healthz`, { method: 'HEAD' })).status, 200);
    // Monitoring that alerts on a failed deploy asks for the last run's outcome as the status.
    const failed = await send(`${server.url}/healthz?last_run`, { method: 'GET' });
    assert.equal(failed.status, 503);
    assert.deepEqual([failed.json.ok, failed.json.outcome, failed.json.code], [false, 'failed', 'BUILD_FAILED']);
    assert.match(String(failed.json.reason), /exit status 2/);
    assert.equal((await send(`${server.url}/healthz?last_run=1`, { method: 'HEAD' })).status, 503);
    loop.last = undefined;
  });

  test('it binds only the configured address: another loopback address of this host is refused', async () => {
    assert.equal(server.host, '127.0.0.1');
    // 127.0.0.2 reaches this host too; a server bound to every address (0.0.0.0) would answer there.
    await assert.rejects(send(`http://127.0.0.2:${server.port}/healthz`, { method: 'GET' }), /ECONNREFUSED/);
  });

  test('the secret appears in no log line', () => {
    assert.ok(lines.length > 10);
    assert.ok(!lines.join('\n').includes(SECRET));
  });
});

describe('serve/server: connections', () => {
  test('beyond maxConnections a new connection is closed at once, with one warning; once one ends, deliveries go through', async (t) => {
    const loop = new PokeRecord();
    const lines: string[] = [];
    const server = await startWebhookServer({
      listen: { host: '127.0.0.1', port: 0 }, secret: new Secret(SECRET), maxBodyBytes: MAX_BODY, maxConnections: 3,
      watch: { ref: 'refs/heads/master', repository: 'Codertocat/Hello-World' }, loop,
      log: { info: (m) => lines.push(`info: ${m}`), warn: (m) => lines.push(`warn: ${m}`) },
    });
    t.after(() => server.close());
    // Three slow clients, each half-way through its headers, as a flood would hold them.
    const slow: Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const socket = connect(server.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write('POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      slow.push(socket);
    }
    t.after(() => { for (const socket of slow) socket.destroy(); });
    for (let i = 0; i < 2; i++) {
      const extra = connect(server.port, '127.0.0.1');
      extra.on('error', () => {});
      extra.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      let answered = '';
      extra.on('data', (d: Buffer) => (answered += d));
      await once(extra, 'close');
      assert.equal(answered, '', 'closed without an answer');
    }
    assert.equal(lines.filter((l) => l.includes('connections are open, closing new ones')).length, 1, lines.join('\n'));
    // One slow client goes away: the server's count drops when it sees the close.
    const gone = slow.pop()!;
    gone.destroy();
    const d = github('push', pushTo('refs/heads/master'), SECRET);
    let status = 0;
    for (let i = 0; i < 100 && status !== 202; i++) status = await deliver(server.url, d).then((a) => a.status, () => 0);
    assert.equal(status, 202);
  });
});
