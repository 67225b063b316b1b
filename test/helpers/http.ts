// Talking to the app a test deployed: a free loopback port, and GET with a bounded retry while the
// restarted app comes up (an event: the port answering), never a fixed sleep.
import { createServer } from 'node:net';

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
