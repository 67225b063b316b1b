import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runHealthCheck, type HealthConfig } from '../../src/steps/health.ts';
import { freePort } from '../helpers/http.ts';

const timing = { timeoutMs: 2000, intervalMs: 20, retries: 1000, delayMs: 0 };

async function serve(t: { after: (fn: () => void) => void }, handler: (n: number) => [number, string]): Promise<string> {
  let n = 0;
  const server = createServer((_req, res) => {
    const [status, body] = handler(++n);
    res.writeHead(status).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
}

describe('health', () => {
  test('an HTTP check retries until the app answers 2xx', async (t) => {
    const url = await serve(t, (n) => (n < 3 ? [503, 'starting'] : [200, 'ok']));
    const r = await runHealthCheck({ kind: 'http', url, ...timing }, { cwd: '/', env: process.env });
    assert.deepEqual([r.ok, r.attempts], [true, 3]);
  });

  test('an expected status and body substring are both required', async (t) => {
    const url = await serve(t, () => [200, 'degraded']);
    const r = await runHealthCheck({ kind: 'http', url, body: 'ok', ...timing, timeoutMs: 200 }, { cwd: '/', env: process.env });
    assert.equal(r.ok, false);
    assert.match(r.detail, /HTTP 200 without "ok" in its body/);
    const s = await runHealthCheck({ kind: 'http', url, status: 204, ...timing, timeoutMs: 200 }, { cwd: '/', env: process.env });
    assert.match(s.detail, /answered HTTP 200: degraded/);
  });

  test('a failing check reports the last status and body, and stops after its retries', async (t) => {
    const url = await serve(t, () => [500, 'boom: database down']);
    const r = await runHealthCheck({ kind: 'http', url, ...timing, retries: 2 }, { cwd: '/', env: process.env });
    assert.deepEqual([r.ok, r.attempts], [false, 3]);
    assert.match(r.detail, /HTTP 500: boom: database down/);
  });

  test('a URL with user:password@ is checked with them as basic auth, as curl does; they never show in its detail', async (t) => {
    let seen: string | undefined;
    const server = createServer((req, res) => {
      seen = req.headers.authorization;
      res.writeHead(seen === `Basic ${Buffer.from('mon:pa ss@1').toString('base64')}` ? 200 : 401).end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const url = `http://mon:pa%20ss%401@127.0.0.1:${(server.address() as AddressInfo).port}/health`;
    const r = await runHealthCheck({ kind: 'http', url, ...timing }, { cwd: '/', env: process.env });
    assert.deepEqual([r.ok, r.attempts], [true, 1], r.detail);
    assert.doesNotMatch(r.detail, /mon|pa%20ss|pa ss/);
    const wrong = await runHealthCheck({ kind: 'http', url: url.replace('pa%20ss', 'nope'), ...timing, retries: 0 }, { cwd: '/', env: process.env });
    assert.match(wrong.detail, /answered HTTP 401/);
    assert.doesNotMatch(wrong.detail, /nope/);
  });

  test('nothing listening is reported as connection refused', async () => {
    const url = `http://127.0.0.1:${await freePort()}/`;
    const r = await runHealthCheck({ kind: 'http', url, ...timing, timeoutMs: 200 }, { cwd: '/', env: process.env });
    assert.equal(r.ok, false);
    assert.match(r.detail, /connection refused/);
  });

  test('a command check passes on exit 0 and reports the output of a failure', async () => {
    // sh, not node: a node start on a loaded machine can take longer than the check's timeout.
    const ok: HealthConfig = { kind: 'command', command: ['sh', '-c', 'exit 0'], ...timing };
    assert.equal((await runHealthCheck(ok, { cwd: '/', env: process.env })).ok, true);
    const bad: HealthConfig = { kind: 'command', command: ['sh', '-c', 'echo "not ready"; exit 2'], ...timing, retries: 1 };
    const r = await runHealthCheck(bad, { cwd: '/', env: process.env });
    assert.equal(r.ok, false);
    assert.match(r.detail, /failed with exit status 2: not ready/);
  });
  test('many attempts with one abort signal leave no abort listener behind', async (t) => {
    const url = await serve(t, (n) => (n < 15 ? [503, 'starting'] : [200, 'ok']));
    const controller = new AbortController();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    const r = await runHealthCheck({ kind: 'http', url, ...timing, intervalMs: 1, delayMs: 1 }, { cwd: '/', env: process.env, signal: controller.signal });
    assert.deepEqual([r.ok, r.attempts], [true, 15]);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((w) => w === 'MaxListenersExceededWarning'), []);
  });
  test('a unit reported dead ends the check at once, even an attempt still waiting for an answer', async (t) => {
    // Accepts and never answers: as a request to a crashed app waits in a socket unit's queue.
    const held: import('node:http').ServerResponse[] = [];
    const server = createServer((_req, res) => void held.push(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => { for (const res of held) res.destroy(); server.close(); });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
    // Dead only once the attempt is at the server: on a loaded machine 30 ms may pass before it is.
    const watch = async () => (held.length > 0 ? 'unit app failed (result exit-code)' : undefined);
    const r = await runHealthCheck({ kind: 'http', url, ...timing, timeoutMs: 60_000 }, { cwd: '/', env: process.env, watch, watchIntervalMs: 10 });
    assert.deepEqual([r.ok, r.unitFailed, r.detail, r.attempts], [false, true, 'unit app failed (result exit-code)', 1]);
    assert.equal(held.length, 1, 'the one attempt was still waiting for its answer');
  });

  test('a watch that finds nothing wrong leaves the check to decide', async (t) => {
    const url = await serve(t, (n) => (n < 2 ? [503, 'starting'] : [200, 'ok']));
    const r = await runHealthCheck({ kind: 'http', url, ...timing }, { cwd: '/', env: process.env, watch: async () => undefined, watchIntervalMs: 10 });
    assert.deepEqual([r.ok, r.unitFailed, r.attempts], [true, undefined, 2]);
  });

  test('a watch whose question is never answered (a hung systemctl) does not hold up the check\'s end, and is told to give up', async (t) => {
    const url = await serve(t, () => [200, 'ok']);
    let abandoned: AbortSignal | undefined;
    // Settles never, as a systemctl that hangs past every bound would.
    const watch = (signal: AbortSignal) => ((abandoned = signal), new Promise<undefined>(() => undefined));
    let hung: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      runHealthCheck({ kind: 'http', url, ...timing }, { cwd: '/', env: process.env, watch, watchIntervalMs: 10 }),
      new Promise<never>((_, reject) => (hung = setTimeout(() => reject(new Error('the check waited for the watch for 30 s')), 30_000))),
    ]).finally(() => clearTimeout(hung));
    assert.deepEqual([r.ok, r.unitFailed], [true, undefined]);
    assert.equal(abandoned?.aborted, true, 'the watch was asked to stop its question');
  });
});
