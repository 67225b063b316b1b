// The [repo] section: the repository URL, its branch, and its credentials (in the file, in a token
// file, or in MFD_REPO_TOKEN), each kept in a Secret; which combinations of them make sense.
import * as z from 'zod/mini';
import { checkRepoUrl } from './rules.ts';
import { readInlineToken, readSecretVar, Secret } from './secret.ts';
import { text, type Add, optText, optString } from './shape.ts';

export type RepoAuth =
  | { kind: 'none' }
  | { kind: 'token'; token: Secret }
  | { kind: 'basic'; username: string; password: Secret };

export interface RepoConfig {
  url: string;
  branch?: string;
  auth: RepoAuth;
  /** [repo] timeout (see http-client.ts). */
  timeoutMs: number;
}

export const RepoSchema = z.strictObject({
  url: text,
  branch: optText,
  token: optText,
  token_file: optText,
  username: optText,
  password: optText,
  timeout: optString,
});
export type ParsedRepo = z.infer<typeof RepoSchema>;

/** The keys whose values are never echoed in a message. */
export const SECRET_KEYS = ['repo.token', 'repo.password'];

/** Credentials given twice, or half: checked on the raw values, so they show with every other problem. */
export function checkRepoAuth(repo: Partial<ParsedRepo>, add: Add): void {
  if (repo.token && repo.password) add(['repo', 'password'], 'give either repo.token or repo.username + repo.password, not both');
  if (repo.token && repo.token_file) add(['repo', 'token_file'], 'give either repo.token or repo.token_file, not both');
  if (repo.password && !repo.username) add(['repo', 'username'], 'is required when repo.password is set');
  if (repo.username && !repo.password && !repo.token) add(['repo', 'password'], 'is required when repo.username is set');
}

export const REPO_TOKEN_VAR = 'MFD_REPO_TOKEN';

/**
 * repo.token, or MFD_REPO_TOKEN when the file has no credential, read by the one token rule
 * (secret.ts readToken); a bad value is a problem under its key or name. repo.token_file is read later, by loadConfig.
 */
export function readRepoToken(repo: Partial<ParsedRepo>, env: Record<string, string | undefined>, add: Add): Secret | undefined {
  if (typeof repo.token === 'string' && repo.token !== '') return readInlineToken(repo.token, ['repo', 'token'], add);
  if (repo.token || repo.password || repo.token_file) return undefined;
  const read = readSecretVar(env[REPO_TOKEN_VAR]);
  if (!read.ok) add([REPO_TOKEN_VAR], read.problem);
  return read.ok ? read.secret : undefined;
}

/** A URL of a kind mfd cannot fetch from (rules.ts checkRepoUrl). */
export function checkRepoUrlOf(repo: Partial<ParsedRepo>, add: Add): void {
  if (typeof repo.url === 'string' && repo.url !== '') {
    const problem = checkRepoUrl(repo.url);
    if (problem) add(['repo', 'url'], problem);
  }
}

/** The section as mfd uses it, with readRepoToken's token; `tokenFile` is still to be read (loadConfig does, after validation). */
export function repoOf(
  repo: ParsedRepo,
  opts: { timeoutMs: number; token: Secret | undefined; file: string; warnings: string[] },
): { repo: RepoConfig; holdsSecret: boolean; tokenFile?: string } {
  const url = repo.url;
  if (/^[a-zA-Z+]+:\/\/[^/@]*@/.test(url)) {
    opts.warnings.push(`${opts.file}: repo.url holds credentials; put them in repo.token_file or MFD_REPO_TOKEN instead`);
  }
  let auth: RepoAuth = { kind: 'none' };
  if (repo.password) auth = { kind: 'basic', username: repo.username!, password: new Secret(repo.password) };
  else if (opts.token) auth = { kind: 'token', token: opts.token };
  return {
    repo: { url, ...(repo.branch ? { branch: repo.branch } : {}), auth, timeoutMs: opts.timeoutMs },
    holdsSecret: !!(repo.token || repo.password || /^[a-zA-Z+]+:\/\/[^/@]*:[^/@]*@/.test(url)),
    ...(repo.token_file ? { tokenFile: repo.token_file } : {}),
  };
}
