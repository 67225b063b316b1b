// A real git smart-HTTP server for tests: `git http-backend` (CGI) spawned per request behind
// node:http on 127.0.0.1, with optional basic auth, a request log and a count of bytes sent.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitServerRequest {
  method: string;
  /** URL path, e.g. `/app.git/info/refs` or `/app.git/git-upload-pack`. */
  path: string;
  query: string;
  /** `advertise` (GET info/refs), a protocol v2 command (`ls-refs`, `fetch`), or `fetch` for a v0/v1 want list. */
  command: string;
  status: number;
  /** Response body bytes sent. */
  bytes: number;
}

export interface GitServer {
  /** `http://127.0.0.1:<port>/<repo>`, without credentials. */
  url(repo: string): string;
  /** Response body bytes sent since start or the last resetCounters(). */
  readonly bytesSent: number;
  /** Finished requests since start or the last resetCounters(), in order. */
  readonly requests: readonly GitServerRequest[];
  resetCounters(): void;
  close(): Promise<void>;
}

export interface GitServerOptions {
  /** Directory holding the bare repositories (GIT_PROJECT_ROOT). */
  root: string;
  auth?: { username: string; password: string };
  /**
   * Awaited before each chunk of a response body is sent, with the bytes sent so far: a test can
   * hold a response half-way (e.g. to kill a client in the middle of receiving a pack).
   */
  beforeChunk?: (entry: GitServerRequest, sentSoFar: number, res: ServerResponse) => Promise<void> | void;
  /** Splits a response body into writes of at most this many bytes (beforeChunk runs before each): a trickle. */
  maxChunk?: (entry: GitServerRequest) => number | undefined;
}

export async function startGitServer(options: GitServerOptions): Promise<GitServer> {
  let requests: GitServerRequest[] = [];
  const children = new Set<ReturnType<typeof spawn>>();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const command = method === 'GET' ? 'advertise' : 'unknown';
    const entry: GitServerRequest = { method, path: url.pathname, query: url.search.slice(1), command, status: 0, bytes: 0 };
    // Logged at once, so a test can read the log as soon as its client call has returned.
    requests.push(entry);
    res.on('close', () => (entry.status = res.statusCode));
    const user = authorize(req, options.auth);
    if (user === false) {
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"', 'Content-Type': 'text/plain' });
      entry.status = 401;
      res.end('authentication required\n');
      return;
    }
    serveCgi(req, res, url, user, options, entry, children).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`git-server: ${String(error)}\n`);
    });
  });

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: (repo) => `http://127.0.0.1:${port}/${repo}`,
    get bytesSent() {
      return requests.reduce((sum, r) => sum + r.bytes, 0);
    },
    get requests() {
      return requests;
    },
    resetCounters() {
      requests = [];
    },
    async close() {
      for (const child of children) child.kill('SIGKILL');
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** The user name when access is granted ('' without auth), false when the request must get a 401. */
function authorize(req: IncomingMessage, auth: GitServerOptions['auth']): string | false {
  if (!auth) return '';
  const header = req.headers.authorization ?? '';
  const match = /^Basic (.+)$/i.exec(header);
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return false;
  const [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  return username === auth.username && password === auth.password ? username : false;
}

async function serveCgi(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  user: string,
  options: GitServerOptions,
  entry: GitServerRequest,
  children: Set<ReturnType<typeof spawn>>,
): Promise<void> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    // The machine's own git config must not change what the backend serves.
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PROJECT_ROOT: options.root,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_USER: user,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  };
  // Without GIT_PROTOCOL the backend silently falls back from protocol v2 to v0.
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol;
  const encoding = req.headers['content-encoding'];
  if (typeof encoding === 'string') env.HTTP_CONTENT_ENCODING = encoding;
  // A chunked body has no length: then the backend must read stdin to EOF instead.
  const length = req.headers['content-length'];
  if (typeof length === 'string') env.CONTENT_LENGTH = length;

  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const exited = once(child, 'close');
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  // EPIPE when the backend answers (e.g. 404) without reading the body is expected.
  child.stdin.on('error', () => undefined);
  let start = Buffer.alloc(0);
  req.on('data', (chunk: Buffer) => {
    if (start.length >= 256) return;
    start = Buffer.concat([start, chunk]).subarray(0, 256);
    entry.command = commandOf(start.toString('latin1'), entry.command);
  });
  req.pipe(child.stdin);
  res.on('close', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  let head = Buffer.alloc(0);
  let headersDone = false;
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    let body = chunk;
    if (!headersDone) {
      head = Buffer.concat([head, chunk]);
      const split = findHeaderEnd(head);
      if (!split) continue;
      entry.status = writeCgiHead(res, head.subarray(0, split.start).toString('latin1'));
      headersDone = true;
      body = head.subarray(split.end);
    }
    const size = options.maxChunk?.(entry) ?? body.length;
    for (let at = 0; at < body.length && !res.destroyed; at += size) {
      const piece = body.subarray(at, at + size);
      await options.beforeChunk?.(entry, entry.bytes, res);
      if (res.destroyed) break;
      entry.bytes += piece.length;
      if (!res.write(piece)) await drained(res);
    }
    if (res.destroyed) break;
  }
  await exited;
  children.delete(child);
  if (!headersDone) {
    res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end(`git http-backend exited with ${child.exitCode ?? child.signalCode}: ${stderr}`);
    return;
  }
  res.end();
}

/** Resolves when `res` can take more data, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function findHeaderEnd(buf: Buffer): { start: number; end: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { start: crlf, end: crlf + 4 };
  if (lf !== -1) return { start: lf, end: lf + 2 };
  return undefined;
}

function writeCgiHead(res: ServerResponse, text: string): number {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  res.writeHead(status, headers);
  return status;
}

/** Names what a POST asks for from the first pkt-lines of its (uncompressed) body. */
function commandOf(start: string, fallback: string): string {
  const v2 = /^[0-9a-f]{4}command=([a-z-]+)/.exec(start);
  if (v2) return v2[1]!;
  if (/^[0-9a-f]{4}want /.test(start)) return 'fetch';
  return fallback;
}
