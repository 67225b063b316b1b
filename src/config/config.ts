// mfd.toml: TOML text → smol-toml → strict zod schema → cross-field rules → a frozen Config.
// Every problem is reported at once with its key path and line; secrets are never echoed.
// Each section has its module (repo, build, systemd, deploy, lock, health); this one joins them.
import { stat } from '../sys/files.ts';
import { dirname, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import * as z from 'zod/mini';
import { ConfigInvalidError, ConfigNotFoundError, ConfigUnreadableError, type ConfigIssue } from '../errors/index.ts';
import { BuildSchema, BuildSchemaWithoutCache, buildOf, type BuildConfig } from './build.ts';
import { checkBuildCache } from './build-cache.ts';
import { DeploySchema, deployOf, readMinFree, type DeployConfig } from './deploy.ts';
import { checkHealth, HealthSchema, healthOf, type HealthConfig } from './health.ts';
import { describeValue, expected, lineOf, suggestKey, valueAt } from './issue.ts';
import { LockSchema, lockOf, type LockConfig } from './lock.ts';
import { checkRepoAuth, checkRepoUrlOf, readRepoToken, RepoSchema, repoOf, SECRET_KEYS, type ParsedRepo, type RepoAuth, type RepoConfig } from './repo.ts';
import { checkLinkUrls, checkNul, checkPrograms, cleartextWarning, readDurations } from './rules.ts';
import { readRegularFile } from './regular-file.ts';
import { readTokenCredential, Secret } from './secret.ts';
import { checkServe, SERVE_SECRET_KEYS, ServeSchema, serveOf, type ServeConfig } from './serve.ts';
import { absent, keysOf, tablePath } from './shape.ts';
import { lazily } from '../sys/lazy.ts';
import { SystemdSchema, systemdOf, type SystemdConfig } from './systemd.ts';
import { STATUS_SECRET_KEYS, StatusSchema, statusOf, type StatusConfig } from './status.ts';
import { NotifySchema, notifyOf, type NotifyConfig } from './notify.ts';
import { WatchSchema, watchOf, type WatchConfig } from './watch.ts';

export type { HealthConfig, LockConfig, NotifyConfig, RepoAuth, ServeConfig, StatusConfig };

export interface Config {
  file: string;
  root: string;
  repo: RepoConfig;
  build: BuildConfig;
  systemd: SystemdConfig;
  deploy: DeployConfig;
  lock: LockConfig;
  health?: HealthConfig;
  /** Commit statuses posted to the forge (status/). */
  status?: StatusConfig;
  /** The command told of each run's end (notify/). */
  notify?: NotifyConfig;
  serve: ServeConfig;
  watch: WatchConfig;
  warnings: string[];
}

// zod/mini: the same validation as zod's chained API at a twentieth of its size, which is most
// of what every command has to load before it can start (the config is read by all of them).
// The one list of what mfd.toml may hold: unknown keys are errors, and "did you mean" reads it.
// The optional sections' schemas are made only for a file that holds them (schemaFor).
const SECTIONS = {
  systemd: SystemdSchema,
  deploy: DeploySchema,
  lock: LockSchema,
  health: HealthSchema,
  status: StatusSchema,
  notify: NotifySchema,
  serve: ServeSchema,
  watch: WatchSchema,
};
const fullSchema = lazily(() => z.strictObject({
  repo: RepoSchema,
  build: BuildSchema(),
  systemd: SystemdSchema(),
  deploy: DeploySchema(),
  lock: LockSchema(),
  health: HealthSchema(),
  status: StatusSchema(),
  notify: NotifySchema(),
  serve: ServeSchema(),
  watch: WatchSchema(),
}));
/** An optional section the file does not hold: undefined, whatever its schema would say. */

/**
 * The schema `data` is checked with: the full one, except that a section `data` does not hold is
 * absent instead of its schema (which is then never made). The same keys, so the same answers.
 */
function schemaFor(data: unknown): ReturnType<typeof fullSchema> {
  const holds = (key: string) => valueAt(data, [key]) !== undefined;
  const shape = Object.fromEntries(Object.entries(SECTIONS).map(([key, make]) => [key, holds(key) ? make() : absent]));
  // [[build.cache]] alike, inside [build].
  const build = valueAt(data, ['build', 'cache']) === undefined ? BuildSchemaWithoutCache() : BuildSchema();
  return z.strictObject({ repo: RepoSchema, build, ...shape }) as unknown as ReturnType<typeof fullSchema>;
}

/** Every table's keys, by key path ('' for the top level), read from the full schema. */
export const allowedKeys = lazily(() => keysOf(fullSchema()) as Readonly<Record<string, readonly string[]>>);
const SECRET_PATHS = new Set([...SECRET_KEYS, ...STATUS_SECRET_KEYS, ...SERVE_SECRET_KEYS]);

/** The result of validating the text alone: what loadConfig still has to read is `tokenFile`. */
export interface ParsedConfig {
  config: Omit<Config, 'repo'> & { repo: Omit<Config['repo'], 'auth'> & { auth: RepoAuth } };
  tokenFile?: string;
  /** status.token_file, resolved: read by loadConfig as tokenFile is. */
  statusTokenFile?: string;
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

  const result = schemaFor(data).safeParse(data);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const hint = suggestKey(key, allowedKeys()[tablePath(path)] ?? []);
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
  const repo = (parsed?.repo ?? (valueAt(data, ['repo']) as Partial<ParsedRepo> | undefined)) ?? {};
  checkRepoAuth(repo, add);
  const repoToken = readRepoToken(repo, env, add);
  // Checked on the raw values, so a bad duration or URL is reported even when other keys are wrong too.
  const ms = readDurations(data, add);
  checkPrograms(data, add);
  checkNul(data, add);
  checkLinkUrls(data, add);
  checkBuildCache(data, add);
  checkRepoUrlOf(repo, add);
  const minFreeBytes = readMinFree(data, add);
  checkHealth(data, add);
  const status = parsed?.status ? statusOf(parsed.status, { repoUrl: parsed.repo.url, root: dirname(file), env, add }) : undefined;
  const notify = parsed?.notify ? notifyOf(parsed.notify, add) : undefined;
  const serveValues = checkServe(data, env, add);
  if (issues.length > 0 || !parsed) throw new ConfigInvalidError(file, issues);

  const warnings: string[] = [];
  const root = dirname(file);
  const repoConfig = repoOf(parsed.repo, { timeoutMs: ms['repo.timeout'], token: repoToken, file, warnings });
  const cleartext = [
    repoConfig.repo.auth.kind !== 'none' || repoConfig.tokenFile || repoConfig.holdsSecret ? cleartextWarning('repo.url', parsed.repo.url, 'the repository credential') : undefined,
    status && (status.status.token || status.tokenFile) ? cleartextWarning('status.api_url', status.status.apiUrl, 'the commit status token') : undefined,
  ];
  for (const w of cleartext) if (w) warnings.push(`${file}: ${w}`);
  const health = parsed.health
    ? { health: healthOf(parsed.health, { timeoutMs: ms['health.timeout'], intervalMs: ms['health.interval'], delayMs: ms['health.delay'] }) }
    : {};
  return {
    config: {
      file,
      root,
      repo: repoConfig.repo,
      build: buildOf(parsed.build, ms['build.timeout']),
      systemd: systemdOf(parsed.systemd),
      deploy: deployOf(parsed.deploy, minFreeBytes),
      lock: lockOf(parsed.lock, { retryIntervalMs: ms['lock.retry_interval'], staleMs: ms['lock.stale'] }, file),
      ...health,
      ...(status ? { status: status.status } : {}),
      ...(notify ? { notify } : {}),
      serve: serveOf(parsed.serve, { ...serveValues, lineOf: (path) => lineOf(source, path) }),
      watch: watchOf({ intervalMs: ms['watch.interval'] }),
      warnings,
    },
    // As written: read by loadConfig relative to the config, ${CREDENTIALS_DIRECTORY} expanded.
    ...(repoConfig.tokenFile ? { tokenFile: repoConfig.tokenFile } : {}),
    ...(status?.tokenFile ? { statusTokenFile: status.tokenFile } : {}),
    holdsSecret: repoConfig.holdsSecret || !!status?.holdsSecret || !!parsed.serve?.secret,
  };
}

/** An mfd.toml is a few KiB; a file larger than this is the wrong one, and is not read into memory. */
const CONFIG_FILE_MAX_BYTES = 1024 * 1024;

/** Reads and validates the config file (a regular file of at most 1 MiB), reads repo.token_file, and warns about loose permissions. */
export async function loadConfig(file: string, env: Record<string, string | undefined>): Promise<Config> {
  const path = resolve(file);
  const read = readRegularFile(path, CONFIG_FILE_MAX_BYTES);
  if (!read.ok) {
    if (read.problem === 'unreadable' && (read.errno === 'ENOENT' || read.errno === 'ENOTDIR')) throw new ConfigNotFoundError(path, read.cause);
    if (read.problem === 'not-regular') throw new ConfigUnreadableError(path, { problem: 'not-regular', kind: read.kind });
    if (read.problem === 'too-large') throw new ConfigUnreadableError(path, { problem: 'too-large', maxBytes: CONFIG_FILE_MAX_BYTES });
    throw new ConfigUnreadableError(path, { problem: 'unreadable', errno: read.errno }, read.cause);
  }
  const source = read.text;
  const parsed = parseConfig(source, { file: path, env });
  const config = parsed.config as Config;
  if (parsed.holdsSecret) await warnIfShared(path, 'it holds a secret', config.warnings);
  if (parsed.tokenFile) {
    const read = await readTokenFile(path, source, parsed.tokenFile, ['repo', 'token_file'], env);
    config.repo.auth = { kind: 'token', token: read.secret };
    await warnIfShared(read.path, 'it holds the repository token', config.warnings);
  }
  if (parsed.statusTokenFile && config.status) {
    const read = await readTokenFile(path, source, parsed.statusTokenFile, ['status', 'token_file'], env);
    config.status.token = read.secret;
    await warnIfShared(read.path, 'it holds the commit status token', config.warnings);
  }
  return deepFreeze(config);
}

/** A token file as the serve.* secret files are read (relative to the config, ${CREDENTIALS_DIRECTORY} expanded), then checked as a token. */
async function readTokenFile(config: string, source: string, template: string, key: string[], env: Record<string, string | undefined>): Promise<{ path: string; secret: Secret }> {
  const read = await readTokenCredential(config, template, env);
  if (!read.ok) throw new ConfigInvalidError(config, [{ path: key.join('.'), message: read.problem, ...withLine(lineOf(source, key)) }]);
  return read;
}

async function warnIfShared(path: string, why: string, warnings: string[]): Promise<void> {
  const mode = (await stat(path)).mode & 0o777;
  if (mode & 0o077) {
    warnings.push(`${path} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}) and ${why}; run: chmod 600 ${path}`);
  }
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
