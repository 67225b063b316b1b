// Who may see the status page, /api/status and the run logs (logs can hold what a build printed):
// off beyond this host unless [serve] status_page = true, and behind [serve] status_token when set,
// as a bearer token or a basic-auth password, compared in constant time. /webhook and /healthz never ask.
// Served to this host only, a request must also name it (Host): else a web page's script could
// reach it by DNS rebinding, as its own origin, from any browser on the host or its SSH tunnel.
import { createHash, timingSafeEqual } from 'node:crypto';
import { stat } from '../sys/files.ts';
import type { IncomingHttpHeaders } from 'node:http';
import type { ServeConfig } from '../config/serve.ts';
import { readTokenCredential, type Secret } from '../config/secret.ts';
import { ConfigInvalidError } from '../errors/index.ts';
import { isLoopback } from './watch.ts';

export interface PageAccess {
  /** Why the page is off, or undefined when it is served. */
  off: string | undefined;
  /** Whether a request that came through a proxy is let in (only with status_page = true). */
  proxied: boolean;
  token: Secret | undefined;
}

export type AccessVerdict = { ok: true } | { ok: false; status: 401 | 403 | 404; reason: string; headers?: Record<string, string[]> };

/** The policy of this listen address and config; `warn` hears of a token file others can read. */
export async function pageAccessOf(serve: ServeConfig, opts: { file: string; env: Record<string, string | undefined>; warn: (message: string) => void }): Promise<PageAccess> {
  const { host, port } = serve.listen;
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  let off: string | undefined;
  if (serve.statusPage === false) off = 'the status page is off ([serve] status_page = false)';
  else if (serve.statusPage !== true && !isLoopback(host)) {
    off = `the status page is off: mfd serve listens on ${address}, beyond this host, and run logs can hold secrets; set [serve] status_page = true (and a status_token) to serve it`;
  }
  return { off, proxied: serve.statusPage === true, token: await readStatusToken(serve, opts) };
}

async function readStatusToken(serve: ServeConfig, opts: { file: string; env: Record<string, string | undefined>; warn: (message: string) => void }): Promise<Secret | undefined> {
  const source = serve.statusToken;
  if (!source) return undefined;
  if (source.kind === 'inline') {
    await warnIfShared(opts.file, opts.warn);
    return source.secret;
  }
  const fail = (message: string) => new ConfigInvalidError(opts.file, [{ path: 'serve.status_token_file', message, ...(source.line === undefined ? {} : { line: source.line }) }]);
  // As serve.secret_file: only the directory systemd hands a unit's credentials in is expanded.
  // Unlike that HMAC key it is a token: a bearer token (RFC 6750's b64token) holds no whitespace,
  // so a second line or a pasted "Bearer " in the file would lock out every client that sends it.
  const read = await readTokenCredential(opts.file, source.path, opts.env);
  if (!read.ok) throw fail(read.problem);
  await warnIfShared(read.path, opts.warn);
  return read.secret;
}

async function warnIfShared(path: string, warn: (message: string) => void): Promise<void> {
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch (error) {
    // Gone since it was read (or a config given as text): there is no file left to warn about.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (mode & 0o077) warn(`${path} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}) and it holds the status page's token; run: chmod 600 ${path}`);
}

/** Whether this request may see the page. Never throws on any header a client sends. */
export function checkAccess(headers: IncomingHttpHeaders, access: PageAccess): AccessVerdict {
  if (access.off) return { ok: false, status: 404, reason: access.off };
  // A proxy in front (Caddy adds X-Forwarded-For) means the client may be anywhere: not "this host".
  if (!access.proxied && (headers.forwarded !== undefined || headers['x-forwarded-for'] !== undefined || headers['x-real-ip'] !== undefined)) {
    return { ok: false, status: 404, reason: 'the status page is off for requests through a proxy, which may come from beyond this host; set [serve] status_page = true (and a status_token) to serve it there' };
  }
  if (!access.proxied && headers.host !== undefined && !isLoopback(hostName(headers.host))) {
    const host = headers.host.replace(/[^\x21-\x7e]/g, '?').slice(0, 100);
    return { ok: false, status: 403, reason: `the status page is served to this host only, and Host ${JSON.stringify(host)} is not a name of this host; open it as http://127.0.0.1:<port>/ or http://localhost:<port>/` };
  }
  if (!access.token) return { ok: true };
  const given = presented(headers.authorization);
  if (given !== undefined && sameSecret(given, access.token.reveal())) return { ok: true };
  return {
    ok: false,
    status: 401,
    reason: given === undefined ? 'the status page needs the [serve] status_token: as "Authorization: Bearer <token>", or as the basic-auth password' : 'the token does not match [serve] status_token',
    headers: { 'www-authenticate': ['Basic realm="mfd status", charset="UTF-8"', 'Bearer realm="mfd status"'] },
  };
}

/** The name of a Host header, without its port or an IPv6 address's brackets, lower case. */
function hostName(host: string): string {
  const name = /^\[([^\]]*)\]/.exec(host)?.[1] ?? host.replace(/:\d*$/, '');
  return name.toLowerCase();
}

/** The token of `Bearer <token>`, or the password of `Basic base64(user:password)` (any user name). */
function presented(authorization: string | undefined): string | undefined {
  const m = /^(Bearer|Basic)[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  if (!m) return undefined;
  if (m[1]!.toLowerCase() === 'bearer') return m[2];
  const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
