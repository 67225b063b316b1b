// Talking to the app a test deployed: a free loopback port, and GET with a bounded retry while the
// restarted app comes up (an event: the port answering), never a fixed sleep. And a stand-in HTTP
// server on loopback for one test, closed when the test ends.
import { once } from 'node:events';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

/** Serves `handler` on 127.0.0.1 until the test ends (open connections cut then); returns `127.0.0.1:PORT`. */
export async function serveOnLoopback(t: TestContext, handler: RequestListener): Promise<string> {
  const server = createHttpServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

export async function getText(port: number, path = '/', ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return await res.text();
    } catch (error) {
      if (Date.now() > end) throw new Error(`nothing answered on 127.0.0.1:${port} within ${ms} ms`, { cause: error });
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
