// The [status] section: which forge gets commit statuses (github | gitea | gitlab), its API base,
// the repository there (derived from repo.url when it can be), the token (a Secret) and the context.
import { basename } from 'node:path';
import * as z from 'zod/mini';
import { parseDuration } from './duration.ts';
import { describeValue } from './issue.ts';
import { readInlineToken, readSecretVar, type Secret } from './secret.ts';
import { opt, type Add, optText, optString } from './shape.ts';
import { lazily } from '../sys/lazy.ts';

export type StatusProvider = 'github' | 'gitea' | 'gitlab';

/** Where on the forge: `owner/name` (GitHub, Gitea) or a GitLab project id (a number, or the path). */
export type StatusRepository = { kind: 'owner'; owner: string; name: string } | { kind: 'project'; id: string };

export interface StatusConfig {
  provider: StatusProvider;
  /** The API base, without a trailing slash: https://api.github.com, https://host/api/v1, https://host/api/v4. */
  apiUrl: string;
  repository: StatusRepository;
  /** Absent: every post is reported as not made (a warning and an error line), never a config error. */
  token?: Secret;
  context: string;
  /** Links each status to the run (`<base>/runs/<run id>`); none unless set. */
  targetUrlBase?: string;
  /** The most a run's end waits for its posts (and each attempt's limit). */
  timeoutMs: number;
}

export const StatusSchema = lazily(() => opt(
  z.strictObject({
    provider: z.enum(['github', 'gitea', 'gitlab']),
    api_url: opt(z.url({ protocol: /^https?$/ })),
    repository: optText,
    token: optText,
    token_file: optText,
    context: optText,
    target_url_base: opt(z.url({ protocol: /^https?$/ })),
    timeout: optString,
  }),
));
type ParsedStatus = NonNullable<z.infer<ReturnType<typeof StatusSchema>>>;

export const STATUS_SECRET_KEYS = ['status.token'];
export const STATUS_TOKEN_VAR = 'MFD_STATUS_TOKEN';

const TIMEOUT = { defaultMs: 10_000, minMs: 1_000, maxMs: 60_000 };
const DEFAULT_API: Record<StatusProvider, Record<string, string>> = {
  github: { 'github.com': 'https://api.github.com' },
  gitlab: { 'gitlab.com': 'https://gitlab.com/api/v4' },
  gitea: {},
};
const EXAMPLE_API: Record<StatusProvider, string> = {
  github: 'https://github.example.com/api/v3',
  gitea: 'https://git.example.com/api/v1',
  gitlab: 'https://gitlab.example.com/api/v4',
};

/** The section as mfd uses it, or undefined (with its problems added) when it cannot be used. */
export function statusOf(
  s: ParsedStatus,
  opts: { repoUrl: string; root: string; env: Record<string, string | undefined>; add: Add },
): { status: StatusConfig; tokenFile?: string; holdsSecret: boolean } | undefined {
  const { add } = opts;
  const repoUrl = safeUrl(opts.repoUrl);
  const apiUrl = (s.api_url ?? (repoUrl ? DEFAULT_API[s.provider][repoUrl.hostname] : undefined))?.replace(/\/+$/, '');
  if (!apiUrl) {
    add(['status', 'api_url'], `is required for ${s.provider} on ${repoUrl?.hostname ?? 'this host'} (the API base URL, e.g. "${EXAMPLE_API[s.provider]}")`);
  }
  if (s.token && s.token_file) add(['status', 'token_file'], 'give either status.token or status.token_file, not both');
  let timeoutMs = TIMEOUT.defaultMs;
  if (s.timeout !== undefined) {
    try {
      timeoutMs = parseDuration(s.timeout);
      if (timeoutMs < TIMEOUT.minMs || timeoutMs > TIMEOUT.maxMs) add(['status', 'timeout'], `expected a duration from 1s to 1m, got ${describeValue(s.timeout)}`);
    } catch (error) {
      add(['status', 'timeout'], (error as Error).message);
    }
  }
  const repository = s.repository ? repositoryOf(s.provider, s.repository) : repoUrl && apiUrl ? deriveRepository(s.provider, repoUrl, apiUrl) : undefined;
  if (!repository) {
    const form = s.provider === 'gitlab' ? 'the project id or its path ("group/project")' : '"owner/name"';
    add(['status', 'repository'], s.repository ? `expected ${form}, got ${describeValue(s.repository)}` : `cannot be derived from repo.url: give ${form}`);
  }
  // Read before giving up on the section, so a bad token shows with its other problems.
  const envToken = s.token || s.token_file ? { ok: true as const } : readSecretVar(opts.env[STATUS_TOKEN_VAR]);
  if (!envToken.ok) add([STATUS_TOKEN_VAR], envToken.problem);
  const token = s.token ? readInlineToken(s.token, ['status', 'token'], add) : envToken.ok ? envToken.secret : undefined;
  if (!apiUrl || !repository) return undefined;
  return {
    status: {
      provider: s.provider, apiUrl, repository, context: s.context ?? `mfd/${basename(opts.root)}`, timeoutMs,
      ...(token ? { token } : {}),
      ...(s.target_url_base ? { targetUrlBase: s.target_url_base.replace(/\/+$/, '') } : {}),
    },
    ...(s.token_file ? { tokenFile: s.token_file } : {}),
    holdsSecret: !!s.token,
  };
}

/** `owner/name`, or for GitLab a numeric id or a path of groups (`group/sub/project`). */
export function repositoryOf(provider: StatusProvider, value: string): StatusRepository | undefined {
  const segment = /^[A-Za-z0-9_.-]+$/;
  if (provider === 'gitlab') {
    if (/^\d+$/.test(value)) return { kind: 'project', id: value };
    const parts = value.split('/');
    return parts.length >= 2 && parts.every((p) => segment.test(p) && p !== '.' && p !== '..') ? { kind: 'project', id: value } : undefined;
  }
  const [owner, name, ...rest] = value.split('/');
  if (rest.length > 0 || !owner || !name || ![owner, name].every((p) => segment.test(p) && p !== '.' && p !== '..')) return undefined;
  return { kind: 'owner', owner, name };
}

/**
 * From the clone URL: its path less `.git`, and less the path the forge itself is served under
 * (what the API base has before `/api/...`), so `https://h/git/me/app.git` with
 * `https://h/git/api/v1` is `me/app`.
 */
export function deriveRepository(provider: StatusProvider, repoUrl: URL, apiUrl: string): StatusRepository | undefined {
  let path: string;
  try {
    path = decodeURIComponent(repoUrl.pathname).replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
  } catch {
    // A malformed %-escape (URIError) names no repository: the caller asks for status.repository.
    return undefined;
  }
  const api = safeUrl(apiUrl);
  const prefix = api && api.host === repoUrl.host ? api.pathname.replace(/\/api(\/.*)?$/, '').replace(/^\/+|\/+$/g, '') : '';
  if (prefix && path.startsWith(`${prefix}/`)) path = path.slice(prefix.length + 1);
  return repositoryOf(provider, path);
}

function safeUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    // Not a URL: repo.url's own check reports it; there is then nothing to derive from.
    return undefined;
  }
}
