// mfd.toml: TOML text → smol-toml → strict zod schema → cross-field rules → a frozen Config.
// Every problem is reported at once with its key path and line; secrets are never echoed.
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import * as z from 'zod/mini';
import { describeValue, lineOf, suggestKey, valueAt } from './issue.ts';
import { checkPrograms, checkRepoUrl, readDurations } from './rules.ts';
import { parseSize } from './size.ts';
import { ConfigInvalidError, ConfigNotFoundError, type ConfigIssue } from '../errors/index.ts';
import { Secret } from './secret.ts';
import type { HealthConfig } from './health.ts';

export type RepoAuth =
  | { kind: 'none' }
  | { kind: 'token'; token: Secret }
  | { kind: 'basic'; username: string; password: Secret };

export interface Config {
  file: string;
  root: string;
  repo: { url: string; branch?: string; auth: RepoAuth; /** [repo] timeout (see http-client.ts). */ timeoutMs: number };
  build: { commands: string[][]; timeoutMs?: number };
  systemd: { unit?: string; scope: 'system' | 'user' };
  deploy: { keep: number; minFreeBytes: number };
  lock: LockConfig;
  health?: HealthConfig;
  warnings: string[];
}

export interface LockConfig {
  /** Wait for a held lock instead of failing at once (also `mfd deploy --wait`). */
  wait: boolean;
  retryIntervalMs: number;
  retryAttempts: number;
  /** A lock without a heartbeat for this long is stale. */
  staleMs: number;
  /** Also take the host-wide lock: no two opted-in apps on this host deploy at once. */
  host: boolean;
  /** Named shared resources (e.g. a database two apps migrate), locked host-wide. */
  resources: string[];
  /** Directory of host-wide locks; default /run/lock/mfd (or /var/lock/mfd). */
  dir?: string;
}

// zod/mini: the same validation as zod's chained API at a twentieth of its size, which is most
// of what every command has to load before it can start (the config is read by all of them).
const text = z.string().check(z.minLength(1));
const opt = z.optional;
const whole = (min: number, max?: number) => z.int().check(z.gte(min), ...(max === undefined ? [] : [z.lte(max)]));
const Schema = z.strictObject({
  repo: z.strictObject({
    url: text,
    branch: opt(text),
    token: opt(text),
    token_file: opt(text),
    username: opt(text),
    password: opt(text),
    timeout: opt(z.string()),
  }),
  build: z.strictObject({
    commands: z.array(z.array(z.string()).check(z.minLength(1))),
    timeout: opt(z.string()),
  }),
  systemd: opt(z.strictObject({ unit: opt(text), scope: opt(z.enum(['system', 'user'])) })),
  deploy: opt(z.strictObject({ keep: opt(whole(1)), min_free: opt(z.string()) })),
  lock: opt(
    z.strictObject({
      wait: opt(z.boolean()),
      retry_interval: opt(z.string()),
      retry_attempts: opt(whole(1)),
      stale: opt(z.string()),
      host: opt(z.boolean()),
      resources: opt(z.array(z.string().check(z.regex(/^[A-Za-z0-9._-]+$/, 'expected letters, digits, ".", "_" and "-" only')))),
      dir: opt(text),
    }),
  ),
  health: opt(
    z.strictObject({
      url: opt(z.url({ protocol: /^https?$/ })),
      command: opt(z.array(z.string()).check(z.minLength(1))),
      status: opt(whole(100, 599)),
      body: opt(z.string()),
      timeout: opt(z.string()),
      interval: opt(z.string()),
      retries: opt(whole(0)),
      delay: opt(z.string()),
    }),
  ),
});
type Parsed = z.infer<typeof Schema>;

const ALLOWED: Record<string, readonly string[]> = {
  '': ['repo', 'build', 'systemd', 'deploy', 'lock', 'health'],
  repo: ['url', 'branch', 'token', 'token_file', 'username', 'password', 'timeout'],
  build: ['commands', 'timeout'],
  systemd: ['unit', 'scope'],
  deploy: ['keep', 'min_free'],
  health: ['url', 'command', 'status', 'body', 'timeout', 'interval', 'retries', 'delay'],
  lock: ['wait', 'retry_interval', 'retry_attempts', 'stale', 'host', 'resources', 'dir'],
};
const SECRET_PATHS = new Set(['repo.token', 'repo.password']);

/** The result of validating the text alone: what loadConfig still has to read is `tokenFile`. */
export interface ParsedConfig {
  config: Omit<Config, 'repo'> & { repo: Omit<Config['repo'], 'auth'> & { auth: RepoAuth } };
  tokenFile?: string;
  holdsSecret: boolean;
}

/** Validates mfd.toml text without touching the disk. Throws ConfigInvalidError listing every problem. */
export function parseConfig(source: string, opts: { file: string; env?: Record<string, string | undefined> }): ParsedConfig {
  const file = resolve(opts.file);
  const env = opts.env ?? {};
  let data: unknown;
  try {
    data = parse(source);
  } catch (error) {
    if (error instanceof TomlError) {
      throw new ConfigInvalidError(file, [{ path: '', line: error.line, message: `TOML syntax error: ${error.message.split('\n')[0]}` }]);
    }
    throw error;
  }
  const issues: ConfigIssue[] = [];
  const add = (path: (string | number)[], message: string) =>
    issues.push({ path: path.join('.'), message, ...withLine(lineOf(source, path)) });

  const result = Schema.safeParse(data);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const hint = suggestKey(key, ALLOWED[path.join('.')] ?? []);
          add([...path, key], `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`);
        }
        continue;
      }
      const value = valueAt(data, path);
      if (value === undefined) {
        add(path, 'is required');
        continue;
      }
      const secret = SECRET_PATHS.has(path.join('.'));
      add(path, `${expected(path, issue)}, got ${describeValue(value, secret)}`);
    }
  }
  const parsed = result.success ? result.data : undefined;
  const repo = (parsed?.repo ?? (valueAt(data, ['repo']) as Partial<Parsed['repo']> | undefined)) ?? {};
  if (repo.token && repo.password) add(['repo', 'password'], 'give either repo.token or repo.username + repo.password, not both');
  if (repo.token && repo.token_file) add(['repo', 'token_file'], 'give either repo.token or repo.token_file, not both');
  if (repo.password && !repo.username) add(['repo', 'username'], 'is required when repo.password is set');
  if (repo.username && !repo.password && !repo.token) add(['repo', 'password'], 'is required when repo.username is set');
  // Checked on the raw values, so a bad duration or URL is reported even when other keys are wrong too.
  const ms = readDurations(data, add);
  checkPrograms(data, add);
  if (typeof repo.url === 'string' && repo.url !== '') {
    const problem = checkRepoUrl(repo.url);
    if (problem) add(['repo', 'url'], problem);
  }
  let minFreeBytes = 100 * 1024 ** 2;
  const minFree = valueAt(data, ['deploy', 'min_free']);
  if (typeof minFree === 'string') {
    try {
      minFreeBytes = parseSize(minFree);
    } catch (error) {
      add(['deploy', 'min_free'], (error as Error).message);
    }
  }
  const health = valueAt(data, ['health']) as Record<string, unknown> | undefined;
  if (health && typeof health === 'object') {
    if (health.url !== undefined && health.command !== undefined) add(['health', 'command'], 'give either health.url or health.command, not both');
    if (health.url === undefined && health.command === undefined) add(['health'], 'needs health.url or health.command');
    if (health.command !== undefined && (health.status !== undefined || health.body !== undefined)) {
      add(['health', health.status !== undefined ? 'status' : 'body'], 'only applies to health.url');
    }
  }
  if (issues.length > 0 || !parsed) throw new ConfigInvalidError(file, issues);

  const warnings: string[] = [];
  const url = parsed.repo.url;
  if (/^[a-z+]+:\/\/[^/@]*@/i.test(url)) {
    warnings.push(`${file}: repo.url holds credentials; put them in repo.token_file or MFD_REPO_TOKEN instead`);
  }
  let auth: RepoAuth = { kind: 'none' };
  if (parsed.repo.password) auth = { kind: 'basic', username: parsed.repo.username!, password: new Secret(parsed.repo.password) };
  else if (parsed.repo.token) auth = { kind: 'token', token: new Secret(parsed.repo.token) };
  else if (!parsed.repo.token_file && env.MFD_REPO_TOKEN) auth = { kind: 'token', token: new Secret(env.MFD_REPO_TOKEN) };

  const root = dirname(file);
  return {
    config: {
      file,
      root,
      repo: { url, ...(parsed.repo.branch ? { branch: parsed.repo.branch } : {}), auth, timeoutMs: ms['repo.timeout'] },
      build: { commands: parsed.build.commands, ...(ms['build.timeout'] !== undefined ? { timeoutMs: ms['build.timeout'] } : {}) },
      systemd: { ...(parsed.systemd?.unit ? { unit: parsed.systemd.unit } : {}), scope: parsed.systemd?.scope ?? 'system' },
      deploy: { keep: parsed.deploy?.keep ?? 3, minFreeBytes },
      lock: {
        wait: parsed.lock?.wait ?? false,
        retryIntervalMs: ms['lock.retry_interval'],
        retryAttempts: parsed.lock?.retry_attempts ?? 60,
        staleMs: ms['lock.stale'],
        host: parsed.lock?.host ?? false,
        resources: [...new Set(parsed.lock?.resources ?? [])].sort(),
        ...(parsed.lock?.dir ? { dir: resolve(dirname(file), parsed.lock.dir) } : {}),
      },
      ...(parsed.health ? { health: healthOf(parsed.health, ms['health.timeout'], ms['health.interval'], ms['health.delay']) } : {}),
      warnings,
    },
    ...(parsed.repo.token_file ? { tokenFile: resolve(root, parsed.repo.token_file) } : {}),
    holdsSecret: !!(parsed.repo.token || parsed.repo.password || /^[a-z+]+:\/\/[^/@]*:[^/@]*@/i.test(url)),
  };
}

/** Reads and validates the config file, reads repo.token_file, and warns about loose permissions. */
export async function loadConfig(file: string, env: Record<string, string | undefined> = process.env): Promise<Config> {
  const path = resolve(file);
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ConfigNotFoundError(path, error);
    throw new ConfigInvalidError(path, [{ path: '', message: `cannot read the file: ${code ?? String(error)}` }]);
  }
  const parsed = parseConfig(source, { file: path, env });
  const config = parsed.config as Config;
  if (parsed.holdsSecret) await warnIfShared(path, 'it holds a secret', config.warnings);
  if (parsed.tokenFile) {
    let token: string;
    try {
      token = (await readFile(parsed.tokenFile, 'utf8')).trim();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new ConfigInvalidError(path, [{ path: 'repo.token_file', message: `cannot read ${parsed.tokenFile}: ${code}`, ...withLine(lineOf(source, ['repo', 'token_file'])) }]);
    }
    if (!token) throw new ConfigInvalidError(path, [{ path: 'repo.token_file', message: `${parsed.tokenFile} is empty` }]);
    config.repo.auth = { kind: 'token', token: new Secret(token) };
    await warnIfShared(parsed.tokenFile, 'it holds the repository token', config.warnings);
  }
  return deepFreeze(config);
}

async function warnIfShared(path: string, why: string, warnings: string[]): Promise<void> {
  const mode = (await stat(path)).mode & 0o777;
  if (mode & 0o077) {
    warnings.push(`${path} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}) and ${why}; run: chmod 600 ${path}`);
  }
}

function expected(path: (string | number)[], issue: z.core.$ZodIssue): string {
  const key = path.join('.');
  if (/^build\.commands\.\d+$/.test(key)) return 'expected an array of strings (an argv such as ["npm", "ci"])';
  if (/^build\.commands\.\d+\.\d+$/.test(key)) return 'expected a string';
  if (key === 'build.commands') return 'expected an array of argv arrays';
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'too_small') return issue.origin === 'string' ? 'expected a non-empty string' : issue.origin === 'array' ? 'expected a non-empty array' : `expected at least ${String(issue.minimum)}`;
  if (issue.code === 'too_big') return `expected at most ${String(issue.maximum)}`;
  if (issue.code === 'invalid_format' && issue.format === 'url') return 'expected an http:// or https:// URL';
  if (issue.code === 'invalid_type') return `expected ${issue.expected === 'object' ? 'a table' : issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}`;
  return issue.message;
}

function healthOf(h: NonNullable<Parsed['health']>, timeoutMs: number, intervalMs: number, delayMs: number): HealthConfig {
  // Enough retries to fill the timeout unless the user set a number.
  const retries = h.retries ?? Math.ceil(timeoutMs / Math.max(1, intervalMs));
  const timing = { timeoutMs, intervalMs, retries, delayMs };
  if (h.command) return { kind: 'command', command: h.command, ...timing };
  return { kind: 'http', url: h.url!, ...(h.status !== undefined ? { status: h.status } : {}), ...(h.body !== undefined ? { body: h.body } : {}), ...timing };
}

function withLine(line: number | undefined): { line?: number } {
  return line === undefined ? {} : { line };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secret) && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
