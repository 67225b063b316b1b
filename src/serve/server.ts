// The webhook server of `mfd serve` (node:http): POST /webhook authenticates a delivery on its raw
// bytes, answers at once, and only then pokes the deploy loop; GET /healthz says the server is up
// and how the loop's last run ended. It binds only the configured address, and never imports the
// loop (cd/trigger.ts is the seam).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Secret } from '../config/secret.ts';
import type { Pokeable } from '../cd/trigger.ts';
import { readBody } from './body.ts';
import { authenticate, type Envelope } from './delivery.ts';
import { judge, parsePayload, type Verdict, type Watch } from './payload.ts';
import type { StatusRoutes } from './page-routes.ts';
import { DeliveryLog } from './replay.ts';

export interface ServerLog {
  info(message: string): void;
  warn(message: string, hint?: string): void;
}

export interface WebhookServerOptions {
  listen: { host: string; port: number };
  secret: Secret;
  maxBodyBytes: number;
  watch: Watch;
  loop: Pokeable;
  log: ServerLog;
  /** How many delivery ids are remembered for replay detection. */
  remember?: number;
  /** The status page (/, /api/status, /api/events, /runs/<id>/log): page-routes.ts answers them. */
  page?: StatusRoutes;
  /** Connections open at once; more are closed as they come (MAX_CONNECTIONS unless given). */
  maxConnections?: number;
}

/**
 * A delivery's body is read whole before its signature is checked, up to max_body each: so many
 * slow clients at once could hold that much memory, and file descriptors, in the process that
 * deploys. Forges send one delivery at a time, and the page's streams are capped at 32.
 */
export const MAX_CONNECTIONS = 128;
const DROP_WARNING_MS = 60_000;
/** Retry-After of a push refused while mfd serve stops: about the stop's grace, or a restart. */
export const STOPPING_RETRY_AFTER_S = 60;

export interface WebhookServer {
  /** The bound address (the port the OS picked for a listen port of 0). */
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Starts listening; rejects with the listen error (EADDRINUSE, EACCES, ...) as node gives it. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const deliveries = new DeliveryLog(options.remember);
  const server = createServer((req, res) => {
    route(req, res, options, deliveries).catch((error: unknown) => {
      // A handler bug must not kill the server that keeps deploying; the forge sees a 500.
      options.log.warn(`webhook: ${(error as Error).message ?? String(error)}`);
      if (!res.headersSent) send(res, 500, { ok: false, reason: 'internal error' });
    });
  });
  // A client that dribbles its headers or body must not hold a connection for ever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
  let warned = false;
  server.on('drop', (data?: { remoteAddress?: string }) => {
    if (warned) return;
    // Once a minute at most: a flood must not become one log line per connection.
    warned = true;
    setTimeout(() => (warned = false), DROP_WARNING_MS).unref();
    options.log.warn(`webhook: ${server.maxConnections} connections are open, closing new ones (the latest from ${data?.remoteAddress ?? 'an unknown address'})`, 'a client opening many connections at once; see who in the proxy\'s log');
  });
  server.on('checkContinue', (req, res) => {
    // `Expect: 100-continue` (curl, for a large body): refuse a body that is too large before it is sent.
    if (Number(req.headers['content-length'] ?? 0) > options.maxBodyBytes) tooLarge(req, res, options.maxBodyBytes);
    else {
      res.writeContinue();
      server.emit('request', req, res);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.listen.host, port: options.listen.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { host: address.address, port: address.port, url: `http://${host}:${address.port}`, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive connections of forges and proxies would hold close() open until they time out.
    server.closeAllConnections();
  });
}

async function route(req: IncomingMessage, res: ServerResponse, options: WebhookServerOptions, deliveries: DeliveryLog): Promise<void> {
  const [path, query] = (req.url ?? '/').split('?');
  if (path === '/webhook') {
    if (req.method !== 'POST') return send(res, 405, { ok: false, reason: 'POST a webhook here' }, { allow: 'POST' });
    return webhook(req, res, options, deliveries);
  }
  if (path === '/healthz') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { ok: false, reason: 'GET this' }, { allow: 'GET, HEAD' });
    return health(res, options.loop, new URLSearchParams(query).has('last_run'));
  }
  if (options.page && (await options.page.handle(req, res, path ?? '/'))) return;
  send(res, 404, { ok: false, reason: `no such path: ${path}; webhooks go to POST /webhook` });
}

async function webhook(req: IncomingMessage, res: ServerResponse, options: WebhookServerOptions, deliveries: DeliveryLog): Promise<void> {
  const read = await readBody(req, options.maxBodyBytes);
  if (!read.ok) {
    if (read.reason === 'too-large') tooLarge(req, res, options.maxBodyBytes);
    return;
  }
  const auth = authenticate(req.headers, read.body, options.secret);
  const id = auth.envelope.id;
  if (!auth.ok) {
    options.log.warn(`webhook delivery ${id ?? '(no id)'} from ${remoteOf(req)}: ${auth.why === 'missing' ? 'no signature' : 'bad signature'}, refused (401)`);
    return send(res, 401, { ok: false, reason: auth.why === 'missing' ? 'the delivery carries no signature or token' : 'the signature does not match the secret' });
  }
  if (id !== undefined && deliveries.has(id)) {
    options.log.info(`webhook ${describe(auth.envelope)}: already received, nothing to do`);
    return send(res, 202, { ok: true, action: 'replay', delivery: id, reason: `delivery ${id} was already received` });
  }
  const parsed = parsePayload(req.headers['content-type'], read.body);
  const verdict = parsed.ok ? judge(auth.envelope, parsed.payload, options.watch) : parsed.verdict;
  if (id !== undefined && verdict.status < 300) deliveries.add(id);
  answer(res, auth.envelope, verdict, options);
}

function answer(res: ServerResponse, envelope: Envelope, verdict: Verdict, options: WebhookServerOptions): void {
  const delivery = envelope.id ?? null;
  switch (verdict.action) {
    case 'pong':
      if (!verdict.subscribesPush) {
        options.log.warn(`webhook ${describe(envelope)}: the hook does not send push events, so no push will deploy`, 'subscribe the webhook to push events ("Just the push event" on GitHub)');
      } else options.log.info(`webhook ${describe(envelope)}: pong`);
      return send(res, 200, { ok: true, action: 'pong', delivery, subscribesPush: verdict.subscribesPush });
    case 'deploy':
      // A poke only schedules the run, so the forge's timeout (Gitea 5 s, GitHub 10 s) never waits
      // for a deploy. Refused once mfd serve is stopping: the forge must not be told one will run.
      if (!options.loop.poke({ kind: 'webhook', delivery: envelope.id ?? 'unknown' })) {
        options.log.warn(`webhook ${describe(envelope)}: push to ${verdict.ref} refused (503), mfd serve is stopping`);
        return send(res, 503, { ok: false, delivery, reason: `mfd serve is stopping: ${verdict.ref} is not deployed now; its next start polls the branch` }, { 'retry-after': String(STOPPING_RETRY_AFTER_S) });
      }
      send(res, 202, { ok: true, action: 'deploy', delivery, reason: `${verdict.ref} was pushed: the deploy loop will resolve and deploy it` });
      options.log.info(`webhook ${describe(envelope)}: push to ${verdict.ref}, deploy loop poked`);
      return;
    case 'ignored':
      options.log.info(`webhook ${describe(envelope)}: ignored, ${verdict.reason}`);
      return send(res, 202, { ok: true, action: 'ignored', delivery, reason: verdict.reason });
    case 'refused':
      options.log.warn(`webhook ${describe(envelope)}: refused (${verdict.status}), ${verdict.reason}`);
      return send(res, verdict.status, { ok: false, delivery, reason: verdict.reason });
  }
}

/**
 * 200 while the server answers: a failed run left the previous deployment active, and a proxy or
 * load balancer that took a 503 here for "down" would refuse the very webhook of the fix. The body
 * tells the last run all the same; `lastRun` (?last_run) makes a failed one 503, for monitoring.
 */
function health(res: ServerResponse, loop: Pokeable, lastRun: boolean): void {
  const last = loop.lastRun();
  if (!last) return send(res, 200, { ok: true, reason: 'no run has finished yet' });
  const run = { outcome: last.outcome, sha: last.sha, at: new Date(last.at).toISOString() };
  if (last.outcome === 'success') return send(res, 200, { ok: true, ...run, reason: `the last run deployed ${last.sha ?? 'nothing new'}` });
  const failed = { ...run, ...(last.error ? { code: last.error.code } : {}), reason: last.error?.message ?? `the last run ended ${last.outcome}` };
  if (lastRun) return send(res, 503, { ok: false, ...failed });
  send(res, 200, { ok: true, ...failed });
}

/** 413, and the connection closed: the rest of the body is never read. */
function tooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  send(res, 413, { ok: false, reason: `the body is larger than [serve] max_body (${limit} bytes)` }, { connection: 'close' });
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function describe(envelope: Envelope): string {
  return `${envelope.forge} ${envelope.event || '(no event)'} ${envelope.id ?? '(no id)'}`;
}

/** The peer, and what a proxy in front says the client was (printable characters only, bounded). */
function remoteOf(req: IncomingMessage): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  const forwarded = req.headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.replace(/[^\x21-\x7e,]/g, '').slice(0, 100);
  return first ? `${peer} (forwarded for ${first})` : peer;
}
