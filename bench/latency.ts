// A TCP proxy on 127.0.0.1 that delays every chunk by half a round trip in each direction, so the
// bench can time mfd and git against a server that is not next door (`npm run bench -- --rtt MS`):
// a real forge is tens of milliseconds away, and what a client sends ahead or in parallel only
// shows then. Order is kept (equal delays fire in the order they were set); an end or an error
// travels after the data before it.
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface LatencyProxy {
  /** The URL `url` (on the proxied server) has through the proxy. */
  via(url: string): string;
  close(): Promise<void>;
}

export async function startLatencyProxy(target: { host: string; port: number }, rttMs: number): Promise<LatencyProxy> {
  const oneWay = rttMs / 2;
  const sockets = new Set<Socket>();
  const relay = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => void setTimeout(() => to.write(chunk), oneWay));
    from.on('end', () => void setTimeout(() => to.end(), oneWay));
    from.on('error', () => void setTimeout(() => to.destroy(), oneWay));
    from.on('close', () => void setTimeout(() => to.destroy(), oneWay));
  };
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      // Nagle's wait for an ACK (which the peer delays up to 40 ms) would add stalls no real link has.
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    via: (url) => {
      const u = new URL(url);
      u.host = `127.0.0.1:${port}`;
      return u.toString();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
