// The [serve] section of `mfd serve`: the address it binds, its safety-net poll, the largest body it
// reads, the repository a payload must name, and where the webhook secret comes from. secret_file
// is read by `mfd serve` alone (readWebhookSecret), so no other command needs that credential.
import { stat } from '../sys/files.ts';
import * as z from 'zod/mini';
import { WebhookSecretUnreadableError } from '../errors/index.ts';
import { formatDuration } from '../errors/duration.ts';
import { parseDuration } from './duration.ts';
import { describeValue, valueAt } from './issue.ts';
import { readCredentialFile, readInlineToken, readKey, type Secret } from './secret.ts';
import { opt, text, type Add, optText, optString } from './shape.ts';
import { lazily } from '../sys/lazy.ts';
import { formatSize, parseSize } from './size.ts';

/** Where the webhook secret comes from: mfd.toml, a file (e.g. a systemd credential), the environment. */
export type WebhookSecretSource =
  | { kind: 'none' }
  | { kind: 'inline'; secret: Secret }
  | { kind: 'env'; secret: Secret }
  /** `path` as written: `${CREDENTIALS_DIRECTORY}` is expanded when `mfd serve` reads it; `line` of the key in mfd.toml, for its error. */
  | { kind: 'file'; path: string; line?: number };

export interface ServeConfig {
  listen: { host: string; port: number };
  /** The safety-net poll of `mfd serve`: forges do not redeliver a failed delivery. */
  pollMs: number;
  maxBodyBytes: number;
  /** What a payload's repository must be (owner/name or a URL); default: repo.url. */
  repository?: string;
  /** The address people reach `mfd serve` at through its proxy (links in commit statuses). */
  publicUrl?: string;
  secret: WebhookSecretSource;
  /** [serve] status_page: absent, the page is served on a loopback address only (serve/page-access.ts). */
  statusPage?: boolean;
  /** The bearer token (or basic-auth password) the status page asks for; `file` is read at start. */
  statusToken?: { kind: 'inline'; secret: Secret } | { kind: 'file'; path: string; line?: number };
}

export const ServeSchema = lazily(() => opt(
  z.strictObject({
    listen: optText,
    poll: optString,
    max_body: optString,
    repository: optText,
    public_url: opt(z.url({ protocol: /^https?$/ })),
    secret: optText,
    secret_file: optText,
    status_page: opt(z.boolean()),
    status_token: optText,
    status_token_file: optText,
  }),
));
type ParsedServe = z.infer<ReturnType<typeof ServeSchema>>;

export const WEBHOOK_SECRET_VAR = 'MFD_WEBHOOK_SECRET';
export const SERVE_SECRET_KEYS = ['serve.secret', 'serve.status_token'];

const POLL = { defaultMs: 10 * 60_000, minMs: 1000, maxMs: 24 * 3_600_000 };
const MAX_BODY = { default: 1024 ** 2, min: 1024, max: 100 * 1024 ** 2 };
const LISTEN_DEFAULT = { host: '127.0.0.1', port: 8090 };

/** `host:port`, `[v6]:port`; a port of 0 lets the OS pick (tests). */
export function parseListen(value: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port > 65_535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

/**
 * A URL (any scheme, or scp-like `git@host:owner/name`), or a full name: an owner (GitLab: a group
 * and its subgroups) and a name, with no empty segment. serve/repository.ts compares them.
 */
function namesOneRepository(value: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^[^\s/@:]+@[^\s/:]+:/.test(value)) return true;
  const name = value.replace(/^\/+|\/+$/g, '').replace(/\.git$/i, '');
  return /^[^/\s]+(\/[^/\s]+)+$/.test(name);
}

interface ServeValues {
  pollMs: number;
  maxBodyBytes: number;
  statusToken?: Secret;
  /** serve.secret or MFD_WEBHOOK_SECRET, by readKey's rule; a secret_file is read by `mfd serve`. */
  webhookSecret?: Extract<WebhookSecretSource, { secret: Secret }>;
}

/** Problems of the raw [serve] values: each is reported with every other problem of the file. */
export function checkServe(data: unknown, env: Record<string, string | undefined>, add: Add): ServeValues {
  const listen = valueAt(data, ['serve', 'listen']);
  if (typeof listen === 'string' && listen !== '' && !parseListen(listen)) {
    add(['serve', 'listen'], `expected "host:port" such as "127.0.0.1:8090" or "[::1]:8090", got ${describeValue(listen)}`);
  }
  const repository = valueAt(data, ['serve', 'repository']);
  if (typeof repository === 'string' && repository !== '' && !namesOneRepository(repository)) {
    add(['serve', 'repository'], `expected "owner/name" (GitLab: "group/subgroup/name") or a URL, got ${describeValue(repository)}: a push to any repository of that name, by any owner, would trigger a deploy poll`);
  }
  const serve = valueAt(data, ['serve']) as Partial<Record<string, unknown>> | undefined;
  if (serve && typeof serve === 'object' && serve.secret !== undefined && serve.secret_file !== undefined) {
    add(['serve', 'secret_file'], 'give either serve.secret or serve.secret_file, not both');
  }
  if (serve && typeof serve === 'object' && serve.status_token !== undefined && serve.status_token_file !== undefined) {
    add(['serve', 'status_token_file'], 'give either serve.status_token or serve.status_token_file, not both');
  }
  let pollMs = POLL.defaultMs;
  const poll = valueAt(data, ['serve', 'poll']);
  if (typeof poll === 'string') {
    try {
      const ms = parseDuration(poll);
      if (ms < POLL.minMs || ms > POLL.maxMs) add(['serve', 'poll'], `expected a duration from ${formatDuration(POLL.minMs)} to ${formatDuration(POLL.maxMs)}, got ${describeValue(poll)}`);
      else pollMs = ms;
    } catch (error) {
      add(['serve', 'poll'], (error as Error).message);
    }
  }
  let maxBodyBytes = MAX_BODY.default;
  const maxBody = valueAt(data, ['serve', 'max_body']);
  if (typeof maxBody === 'string') {
    try {
      const bytes = parseSize(maxBody);
      if (bytes < MAX_BODY.min || bytes > MAX_BODY.max) add(['serve', 'max_body'], `expected a size from ${formatSize(MAX_BODY.min)} to ${formatSize(MAX_BODY.max)}, got ${describeValue(maxBody)}`);
      else maxBodyBytes = bytes;
    } catch (error) {
      add(['serve', 'max_body'], (error as Error).message);
    }
  }
  // The status page's token, by the one token rule; status_token_file is read when `mfd serve` starts.
  const statusToken = valueAt(data, ['serve', 'status_token']);
  const token = typeof statusToken === 'string' && statusToken !== '' ? readInlineToken(statusToken, ['serve', 'status_token'], add) : undefined;
  const webhookSecret = readWebhookKey(serve, env, add);
  return { pollMs, maxBodyBytes, ...(token ? { statusToken: token } : {}), ...(webhookSecret ? { webhookSecret } : {}) };
}

/**
 * serve.secret, else MFD_WEBHOOK_SECRET when mfd.toml names no secret (an empty variable is unset):
 * trimmed, and one of only whitespace refused under its key or name, never quoting it.
 */
function readWebhookKey(serve: Partial<Record<string, unknown>> | undefined, env: Record<string, string | undefined>, add: Add): ServeValues['webhookSecret'] {
  const inline = serve && typeof serve === 'object' ? serve.secret : undefined;
  if (typeof inline === 'string' && inline !== '') {
    const secret = readKey(inline);
    if (!secret) add(['serve', 'secret'], 'holds only whitespace: give the secret, or leave the key out');
    return secret && { kind: 'inline', secret };
  }
  if (inline !== undefined || (serve && typeof serve === 'object' && serve.secret_file !== undefined)) return undefined;
  const value = env[WEBHOOK_SECRET_VAR];
  if (value === undefined || value === '') return undefined;
  const secret = readKey(value);
  if (!secret) add([WEBHOOK_SECRET_VAR], 'is set in the environment but holds only whitespace');
  return secret && { kind: 'env', secret };
}

/**
 * The section as mfd uses it. The files are read later (by `mfd serve` alone), when the text is
 * gone: `lineOf` finds each file key's line now, so their errors name it as other config errors do.
 */
export function serveOf(
  serve: ParsedServe,
  opts: ServeValues & { lineOf: (path: string[]) => number | undefined },
): ServeConfig {
  const fileAt = (key: string, path: string) => {
    const line = opts.lineOf(['serve', key]);
    return { kind: 'file' as const, path, ...(line === undefined ? {} : { line }) };
  };
  const secret: WebhookSecretSource = opts.webhookSecret ?? (serve?.secret_file ? fileAt('secret_file', serve.secret_file) : { kind: 'none' });
  return {
    listen: serve?.listen ? parseListen(serve.listen)! : LISTEN_DEFAULT,
    pollMs: opts.pollMs,
    maxBodyBytes: opts.maxBodyBytes,
    ...(serve?.repository ? { repository: serve.repository } : {}),
    ...(serve?.public_url ? { publicUrl: serve.public_url } : {}),
    secret,
    ...(serve?.status_page === undefined ? {} : { statusPage: serve.status_page }),
    ...(opts.statusToken ? { statusToken: { kind: 'inline' as const, secret: opts.statusToken } } : {}),
    ...(serve?.status_token_file ? { statusToken: fileAt('status_token_file', serve.status_token_file) } : {}),
  };
}

/**
 * The webhook secret, or undefined when none is configured. A secret_file is read here, not when
 * mfd.toml is loaded: `${CREDENTIALS_DIRECTORY}` exists only inside the unit that runs `mfd serve`.
 */
export async function readWebhookSecret(
  serve: ServeConfig,
  opts: { file: string; env: Record<string, string | undefined>; warn?: (message: string) => void },
): Promise<Secret | undefined> {
  const source = serve.secret;
  if (source.kind === 'none') return undefined;
  if (source.kind !== 'file') return source.secret;
  const viaCredentials = source.path.includes('${CREDENTIALS_DIRECTORY}');
  const fail = (problem: string, cause?: unknown) => new WebhookSecretUnreadableError(opts.file, { problem, viaCredentials, ...(source.line === undefined ? {} : { line: source.line }) }, cause);
  const read = await readCredentialFile(opts.file, source.path, opts.env);
  if (!read.ok) throw fail(read.problem, read.cause);
  const { path } = read;
  // As for the repository token: a secret others can read is no secret (a credential file is 0400 already).
  const mode = (await stat(path)).mode & 0o777;
  if (mode & 0o077) opts.warn?.(`${path} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}) and it holds the webhook secret; run: chmod 600 ${path}`);
  return read.secret;
}
