// How mfd talks to a git server, minus isomorphic-git itself (fetch.ts and resolve.ts plug these in):
// credentials for onAuth and a URL that never holds them, the HTTP client with its timeout
// (http-client.ts), the bound on ref lists (ref-limit.ts) and the thin-pack request, and git failures as mfd errors.
import { errnoCode, GitAuthError, GitCacheError, GitFetchError, GitRefusedError, isDiskFull, MfdError, toFsError } from '../errors/index.ts';
import { withFilteredDiscovery } from './discovery.ts';
import { withHeadStart } from './head-start.ts';
import { lsRefsBody, type Listing } from './listing.ts';
import { createGitHttp, type GitHttpClient } from './http-client.ts';
import { PackProblem } from './pack-format.ts';
import { withBoundedRefs } from './ref-limit.ts';

export type RepoAuth =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  | { kind: 'basic'; username: string; password: string };

export interface RepoRemote {
  url: string;
  auth: RepoAuth;
  /** [repo] timeout: no answer, or less than 1 KiB/s, for this long fails a transfer (default 2m). */
  timeoutMs?: number;
  /** The run's abort signal: an interrupted run cuts its transfer (http-client.ts). */
  signal?: AbortSignal;
}

export const DEFAULT_TIMEOUT_MS = 120_000;

export interface Connection {
  /** The URL without userinfo: what iso-git gets, what the cache's config holds, what messages show. */
  url: string;
  credentials: { username: string; password: string } | undefined;
  /** The client iso-git gets where it needs every ref (resolve.ts's short-sha search). */
  http: GitHttpClient;
  /** For fetches by full sha: the advertisement cut to capabilities and HEAD (discovery.ts). */
  fetchHttp: GitHttpClient;
  /** fetchHttp asking for a thin pack (see requestThinPack). */
  thinHttp: GitHttpClient;
  /**
   * Sends now the first request isomorphic-git will send for a fetch (the protocol v1 ref
   * advertisement) or a ref listing (the v2 capabilities, and with `listing` the ls-refs request
   * itself beside them), so the server works on them while mfd gets ready (head-start.ts);
   * iso-git's identical requests then take their responses.
   */
  startDiscovery(kind: 'fetch' | 'list', listing?: Listing): void;
  /**
   * Resolves once what startDiscovery sent is on the wire (at most SENT_CAP_MS): await it before
   * loading isomorphic-git, whose compiling holds the event loop ~8 ms, else the requests would
   * leave only after it, and the server's head start would be lost.
   */
  discoverySent(): Promise<void>;
  /** Cuts what startDiscovery sent and nobody took. */
  discard(): void;
}

/** Past this the network is slow enough that isomorphic-git's load (~8 ms) does not matter beside it. */
const SENT_CAP_MS = 100;

const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i;
/** The headers of iso-git's protocol v2 listing request (GitRemoteHTTP.connect after a v2 discover). */
const LS_REFS_HEADERS = { 'Git-Protocol': 'version=2', 'content-type': 'application/x-git-upload-pack-request', accept: 'application/x-git-upload-pack-result' };

/** The URL with any `user:password@` removed: what iso-git connects to and the cache's config holds (messages also go through redact.ts). */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, '$1');
}

/** Where a git operation goes: a remote to connect to, or a connection already open (one whose discovery may be under way). */
export type RemoteOrConnection = { remote: RepoRemote; conn?: undefined } | { conn: Connection; remote?: undefined };

/** The connection of `target`: the one given, or a new one to its remote. */
export function connectionOf(target: RemoteOrConnection): Connection {
  return target.conn ?? connect(target.remote);
}

/** Configured credentials win; otherwise `user:pass@` in the URL become basic auth, as in git. */
export function connect(remote: RepoRemote): Connection {
  const http = withHeadStart(createGitHttp({ timeoutMs: remote.timeoutMs ?? DEFAULT_TIMEOUT_MS, ...(remote.signal ? { signal: remote.signal } : {}) }));
  // Outside the filter, which reads the advertisement itself (bounded too) to cut it at HEAD.
  const fetchHttp = withBoundedRefs(withFilteredDiscovery(http));
  const url = redactUrl(remote.url);
  const credentials = credentialsOf(remote);
  return {
    url, credentials, http: withBoundedRefs(http), fetchHttp, thinHttp: withThinPack(fetchHttp),
    // What iso-git's GitRemoteHTTP.discover sends: no credentials until a 401 asks for them, and
    // `Git-Protocol: version=2` for the v2 listing (its fetch always speaks v1). The ls-refs
    // request goes beside it, not after its answer (a round trip less), but only without
    // credentials: iso-git sends them after a 401, so its request could not be the one sent.
    startDiscovery: (kind, listing) => {
      http.start({ method: 'GET', url: `${url}/info/refs?service=git-upload-pack`, headers: kind === 'list' ? { 'Git-Protocol': 'version=2' } : {} });
      if (kind === 'list' && listing && !credentials) http.start({ method: 'POST', url: `${url}/git-upload-pack`, headers: LS_REFS_HEADERS, body: lsRefsBody(listing) });
    },
    discoverySent: () => http.sent(SENT_CAP_MS),
    discard: () => http.discard(),
  };
}

function credentialsOf(remote: RepoRemote): Connection['credentials'] {
  const { auth } = remote;
  // Go mfd sends a token as basic auth with the user name "mfd"; GitHub, Gitea and GitLab accept that.
  if (auth.kind === 'token') return { username: 'mfd', password: auth.token };
  if (auth.kind === 'basic') return { username: auth.username, password: auth.password };
  const userinfo = USERINFO.exec(remote.url)?.[2];
  if (userinfo === undefined) return undefined;
  const colon = userinfo.indexOf(':');
  const [user, pass] = colon === -1 ? [userinfo, ''] : [userinfo.slice(0, colon), userinfo.slice(colon + 1)];
  return { username: decodeURIComponent(user), password: decodeURIComponent(pass) };
}

/** `http`, with requestThinPack applied to every upload-pack request. */
function withThinPack(http: GitHttpClient): GitHttpClient {
  return {
    async request(req) {
      if (req.method !== 'POST' || !req.body || !req.url.endsWith('/git-upload-pack')) return http.request(req);
      const chunks: Uint8Array[] = [];
      for await (const chunk of req.body) chunks.push(chunk);
      return http.request({ ...req, body: [requestThinPack(Buffer.concat(chunks))] });
    },
  };
}

/** isomorphic-git's onAuth / onAuthFailure pair: the credentials once, then cancel instead of retrying forever. */
export function authCallbacks(conn: Connection) {
  const { credentials } = conn;
  return {
    onAuth: credentials ? () => ({ ...credentials }) : undefined,
    onAuthFailure: () => ({ cancel: true }),
  };
}

const PERMISSION = new Set(['EACCES', 'EPERM', 'EROFS']);

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** The one mapping of iso-git and socket errors to mfd's; `url` must already be redacted. */
export function toGitError(error: unknown, url: string): Error {
  if (error instanceof MfdError) return error;
  // A pack of the cache that reads wrong (pack-read.ts): the cache's hint says what to do.
  if (error instanceof PackProblem) return new GitCacheError(error.message, error);
  const { code, data, message } = error as { code?: string; data?: { statusCode?: number; statusMessage?: string }; message?: string };
  if (code === 'UserCanceledError') return new GitAuthError(url, 401, error);
  if (code === 'HttpError') {
    const status = data?.statusCode ?? 0;
    if (status === 401 || status === 403) return new GitAuthError(url, status, error);
    return new GitFetchError(url, `HTTP ${status} ${data?.statusMessage ?? ''}`.trim(), error);
  }
  // iso-git reads no ERR line: one in the advertisement is a line it did not expect.
  const actual = (data as { actual?: unknown } | undefined)?.actual;
  if (code === 'ParseError' && typeof actual === 'string' && actual.startsWith('ERR ')) return new GitRefusedError(url, actual.slice(4));
  if (code === 'SmartHttpError') return new GitFetchError(url, 'the server did not answer as a git smart-HTTP server', error);
  const network = NETWORK_REASONS[code ?? ''];
  if (network) return new GitFetchError(url, `${network} (${code})`, error);
  // Not the remote: a file of the cache (fs errors name their path), or isomorphic-git tripping
  // over one it cannot parse (a JavaScript error of its own, with no code).
  // A full disk is not the cache's fault (exit 9, the df hint), nor is a permission (a cache left
  // owned by root by a `sudo mfd` run: exit 10, the chown hint). Other errors of its files stay
  // cache errors, whose hint (remove it) covers a damaged one.
  if (isDiskFull(error) || PERMISSION.has(errnoCode(error) ?? '')) return toFsError(error) ?? new GitCacheError(message ?? String(error), error);
  if (typeof (error as { path?: unknown }).path === 'string' || (code === undefined && isJsError(error))) {
    return new GitCacheError(message ?? String(error), error);
  }
  return new GitFetchError(url, message ?? String(error), error);
}

function isJsError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError || error instanceof ReferenceError;
}

/**
 * Adds `thin-pack` to the capabilities on the first want line of an upload-pack request.
 * isomorphic-git never asks for it, and without it upload-pack ignores our "have" on a shallow
 * fetch: a have's tree is excluded only as an edge of the walk, and a depth-1 want has no parents,
 * so every fetch would resend the whole tree. mfd indexes the pack itself and appends the bases a
 * thin pack leaves out (pack-index.ts), so the cache only ever holds self-contained packs.
 */
export function requestThinPack(body: Uint8Array): Uint8Array {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const length = Number.parseInt(buf.subarray(0, 4).toString('latin1'), 16);
  if (!(length > 4) || length > buf.length) return body;
  const line = buf.subarray(4, length).toString('latin1');
  if (!line.startsWith('want ') || / thin-pack\b/.test(line)) return body;
  const patched = `${line.replace(/\n$/, '')} thin-pack\n`;
  const header = (patched.length + 4).toString(16).padStart(4, '0');
  return Buffer.concat([Buffer.from(header + patched, 'latin1'), buf.subarray(length)]);
}
