import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { GitTimeoutError } from '../../src/errors/index.ts';
import { createGitHttp, ERROR_BODY_MAX } from '../../src/git/http-client.ts';
import { LowSpeedMeter } from '../../src/git/low-speed.ts';

async function serve(t: TestContext, handler: (path: string, res: ServerResponse, headers: Record<string, unknown>) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    handler(req.url ?? '/', res, req.headers);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<string> {
  let text = '';
  for await (const chunk of body) text += Buffer.from(chunk).toString('utf8');
  return text;
}

describe('low-speed meter', () => {
  test('no verdict before a whole window has passed, however little arrived', () => {
    const meter = new LowSpeedMeter(2000, 0);
    assert.equal(meter.stalled(0), false);
    assert.equal(meter.stalled(1999), false);
    assert.equal(meter.stalled(2000), true);
  });

  test('less than 1 KiB/s over the last window is a stall; bursts earlier do not count', () => {
    const meter = new LowSpeedMeter(10_000, 0);
    meter.record(1000, 1_000_000);
    assert.equal(meter.stalled(10_000), false);
    // One byte a second from then on: the early burst leaves the window.
    for (let t = 11_000; t <= 21_000; t += 1000) meter.record(t, 1);
    assert.equal(meter.stalled(21_000), true);
  });

  test('a steady 1 KiB/s or more is never a stall, nor is silence followed by enough data', () => {
    const meter = new LowSpeedMeter(5000, 0);
    for (let t = 0; t <= 60_000; t += 500) {
      meter.record(t, 600);
      assert.equal(meter.stalled(t), false, `at ${t}`);
    }
    const late = new LowSpeedMeter(5000, 0);
    late.record(4000, 6000);
    assert.equal(late.stalled(5000), false);
    assert.equal(late.stalled(9500), true);
  });
});

describe('git http client', () => {
  test('passes status, headers and body through, decodes gzip, and follows a redirect keeping auth on its origin', async (t) => {
    const { gzipSync } = await import('node:zlib');
    const seen: Record<string, unknown>[] = [];
    const url = await serve(t, (path, res, headers) => {
      seen.push(headers);
      if (path === '/old') res.writeHead(301, { location: '/new' }).end();
      else res.writeHead(200, { 'content-encoding': 'gzip', 'x-a': 'b' }).end(gzipSync('hello'));
    });
    const res = await createGitHttp({ timeoutMs: 2000 }).request({ url: `${url}/old`, headers: { Authorization: 'Basic x' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.url, `${url}/new`);
    assert.equal(res.headers['x-a'], 'b');
    assert.equal(await readAll(res.body), 'hello');
    assert.deepEqual(seen.map((h) => h.authorization), ['Basic x', 'Basic x']);
  });

  test('an error answer is read only up to ERROR_BODY_MAX, even one without end or a gzip that inflates to far more', async (t) => {
    const { gzipSync } = await import('node:zlib');
    // 64 MiB of zeros, about 64 KiB on the wire.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const url = await serve(t, (path, res) => {
      if (path === '/bomb') res.writeHead(500, { 'content-encoding': 'gzip' }).end(bomb);
      else {
        // Without end: a chunk each turn until the client goes away.
        res.writeHead(502);
        const more = () => { if (!res.destroyed) res.write(Buffer.alloc(16 * 1024, 0x61), () => setImmediate(more)); };
        more();
      }
    });
    for (const path of ['/bomb', '/endless']) {
      const res = await createGitHttp({ timeoutMs: 5000 }).request({ url: `${url}${path}` });
      assert.ok(res.statusCode >= 500);
      assert.equal((await readAll(res.body)).length, ERROR_BODY_MAX, path);
    }
  });

  test('no response headers within the timeout is a GitTimeoutError "no answer", naming the URL without its query', async (t) => {
    const url = await serve(t, () => undefined);
    await assert.rejects(createGitHttp({ timeoutMs: 300 }).request({ url: `${url}/app.git/info/refs?service=git-upload-pack` }), (error: unknown) => {
      assert.ok(error instanceof GitTimeoutError);
      assert.equal(error.code, 'GIT_TIMEOUT');
      assert.equal(error.exitCode, 4);
      assert.equal(error.message, `no answer from ${url}/app.git/info/refs for 300ms`);
      assert.match(error.hint ?? '', /\[repo\] timeout/);
      return true;
    });
  });

  test('the low-speed rule counts the bytes on the wire: a trickle of gzip that inflates a lot is a stall', async (t) => {
    const { gzipSync } = await import('node:zlib');
    // 1 MiB of zeros is about 1 KiB of gzip: a byte of it inflates to about a thousand.
    const gzip = gzipSync(Buffer.alloc(1024 * 1024));
    let timer: NodeJS.Timeout | undefined;
    t.after(() => clearInterval(timer));
    const url = await serve(t, (_path, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      // Two bytes each 20 ms: about 100 B/s on the wire (a tenth of the limit), 100 KB/s inflated.
      let at = 0;
      timer = setInterval(() => {
        if (res.destroyed || at >= gzip.length) {
          clearInterval(timer);
          return void res.end();
        }
        res.write(gzip.subarray(at, at + 2));
        at += 2;
      }, 20);
    });
    const res = await createGitHttp({ timeoutMs: 300 }).request({ url: `${url}/app.git/git-upload-pack`, method: 'POST', body: [Buffer.from('want')] });
    await assert.rejects(readAll(res.body), (error: unknown) => {
      assert.ok(error instanceof GitTimeoutError);
      assert.match(error.message, /stalled: less than 1 KiB\/s for 300ms$/);
      return true;
    });
  });

  test('a kept-alive socket left idle is closed by mfd before the keep-alive timeout its server announces', async (t) => {
    // Node's own server: it closes an idle connection after 5 s, as Apache httpd does, and says so.
    const server = createServer((req, res) => {
      req.resume();
      res.end('ok');
    });
    server.keepAliveTimeout = 5000;
    const closed = new Promise<{ byClient: boolean }>((resolve) => server.once('connection', (socket) => {
      let byClient = false;
      socket.once('end', () => (byClient = true));
      socket.once('close', () => resolve({ byClient }));
    }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const res = await createGitHttp({ timeoutMs: 60_000 }).request({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/app.git/info/refs` });
    assert.equal(res.headers['keep-alive'], 'timeout=5');
    assert.equal(await readAll(res.body), 'ok');
    assert.deepEqual(await closed, { byClient: true }, 'the server closed the idle socket first: a request sent then would be reset');
  });

  test('a body that stops coming fails with "stalled" while it is read', async (t) => {
    const url = await serve(t, (_path, res) => {
      res.writeHead(200);
      res.write('a little');
    });
    const res = await createGitHttp({ timeoutMs: 300 }).request({ url: `${url}/app.git/git-upload-pack`, method: 'POST', body: [Buffer.from('want')] });
    await assert.rejects(readAll(res.body), (error: unknown) => {
      assert.ok(error instanceof GitTimeoutError);
      assert.equal(error.message, `transfer from ${url}/app.git/git-upload-pack stalled: less than 1 KiB/s for 300ms`);
      return true;
    });
  });
});
