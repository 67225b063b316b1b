// The webhook server in front of a real deploy loop (cd/loop.ts) whose stop has begun, over real
// HTTP: a push delivered then must not start a run, nor be told that one will (503, Retry-After).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeployLoop } from '../../src/cd/loop.ts';
import { Secret } from '../../src/config/secret.ts';
import { startWebhookServer } from '../../src/serve/server.ts';
import { deliver, github, githubExample } from './deliveries.ts';

const SECRET = 'test-webhook-secret-5e1d';

describe('serve/server while stopping', () => {
  test('once the loop is stopping, a signed push answers 503 with Retry-After and starts no run; a ping still answers', async (t) => {
    const runs: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // A run under way that ends when the test says, as a deploy the stop lets finish.
    const loop = new DeployLoop({
      body: async (trigger) => {
        runs.push(trigger.kind);
        await held;
        return undefined;
      },
      onCrash: (error) => assert.fail(String(error)),
      now: () => 0,
    });
    const lines: string[] = [];
    const server = await startWebhookServer({
      listen: { host: '127.0.0.1', port: 0 },
      secret: new Secret(SECRET),
      maxBodyBytes: 64 * 1024,
      watch: { ref: 'refs/heads/master', repository: 'Codertocat/Hello-World' },
      loop,
      log: { info: (m) => lines.push(`info: ${m}`), warn: (m) => lines.push(`warn: ${m}`) },
    });
    t.after(() => server.close());
    loop.poke({ kind: 'poll' });
    const stopped = loop.stop(60_000);

    const push = githubExample('push', (p) => p.ref === 'refs/heads/master');
    const answer = await deliver(server.url, github('push', push, SECRET));
    assert.equal(answer.status, 503, answer.body);
    assert.match(String(answer.headers['retry-after']), /^\d+$/);
    assert.equal(answer.json.ok, false);
    assert.match(String(answer.json.reason), /stopping/);
    // Only what would start a run is refused: a ping (its example is another repository's) answers as ever.
    const ping = githubExample('ping', (p) => Array.isArray((p.hook as { events?: string[] })?.events));
    ping.repository = push.repository;
    assert.equal((await deliver(server.url, github('ping', ping, SECRET))).status, 200);

    release();
    await stopped;
    assert.deepEqual(runs, ['poll'], 'the delivery during the stop started no run, nor queued one');
    assert.ok(lines.some((l) => /^warn: webhook github push .*: push to refs\/heads\/master refused \(503\), mfd serve is stopping$/.test(l)), lines.join('\n'));
  });
});
