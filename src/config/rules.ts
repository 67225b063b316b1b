// What mfd.toml values must meet beyond their types: each duration within its key's range (and
// within what a Node timer holds), program names that are not empty, no NUL in any value, a
// repository URL mfd can fetch.
import { describeValue, isTable, valueAt } from './issue.ts';
import { parseDuration } from './duration.ts';
import { formatDuration } from '../errors/duration.ts';

type Add = (path: (string | number)[], message: string) => void;

/** Node's timers hold at most 2^31-1 ms (24.8 days); a longer one fires at once. */
export const TIMER_MAX_MS = 2 ** 31 - 1;
const S = 1000;
const H = 3_600_000;

/**
 * Every duration key: its default and its range. Minimums: `lock.stale` at least 1s, as the lock's
 * heartbeat (every stale/5) must beat a busy event loop, and 0 would make every lock stale at once;
 * `build.timeout` and `repo.timeout` at least 1s, as less fails every build or fetch. Maximums keep
 * every timer in range and a typo from meaning "for ever": a killed deploy's lock lasts a day at most.
 */
export const DURATIONS = {
  'repo.timeout': { defaultMs: 2 * 60 * S, minMs: S, maxMs: H },
  'build.timeout': { defaultMs: undefined, minMs: S, maxMs: 576 * H },
  'lock.retry_interval': { defaultMs: 30 * S, minMs: 10, maxMs: H },
  'lock.stale': { defaultMs: 5 * 60 * S, minMs: S, maxMs: 24 * H },
  'health.timeout': { defaultMs: 30 * S, minMs: 100, maxMs: H },
  'health.interval': { defaultMs: S, minMs: 10, maxMs: H },
  'health.delay': { defaultMs: 0, minMs: 0, maxMs: H },
  // At least 1s: a loop asking the remote more often only loads the forge.
  'watch.interval': { defaultMs: 60 * S, minMs: S, maxMs: 24 * H },
} as const satisfies Record<string, { defaultMs: number | undefined; minMs: number; maxMs: number }>;
type DurationKey = keyof typeof DURATIONS;
export type Durations = { [K in DurationKey]: (typeof DURATIONS)[K]['defaultMs'] extends number ? number : number | undefined };

/** The milliseconds of every duration key (its default when absent or wrong), reporting each bad one. */
export function readDurations(data: unknown, add: Add): Durations {
  const out: Record<string, number | undefined> = {};
  for (const [key, rule] of Object.entries(DURATIONS) as [DurationKey, (typeof DURATIONS)[DurationKey]][]) {
    const path = key.split('.');
    const value = valueAt(data, path);
    out[key] = rule.defaultMs;
    // A wrong type is the schema's to report.
    if (typeof value !== 'string') continue;
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch (error) {
      add(path, (error as Error).message);
      continue;
    }
    if (ms < rule.minMs || ms > rule.maxMs) {
      add(path, `expected a duration from ${formatDuration(rule.minMs)} to ${formatDuration(rule.maxMs)}, got ${describeValue(value)}`);
      continue;
    }
    out[key] = ms;
  }
  return out as Durations;
}

/**
 * An empty program name would reach spawn() (build) or run nothing and pass no check (health); one
 * with spaces around it (`" npm"`, argv has no shell to trim them) fails only at deploy time, as a
 * program that does not exist.
 */
export function checkPrograms(data: unknown, add: Add): void {
  const commands = valueAt(data, ['build', 'commands']);
  if (Array.isArray(commands)) {
    commands.forEach((argv, i) => {
      const problem = Array.isArray(argv) ? programProblem(argv[0]) : undefined;
      if (problem) add(['build', 'commands', i, 0], problem);
    });
  }
  const health = valueAt(data, ['health', 'command']);
  const problem = Array.isArray(health) ? programProblem(health[0]) : undefined;
  if (problem) add(['health', 'command', 0], problem);
}

export function programProblem(program: unknown): string | undefined {
  if (program === '') return 'expected a program name (argv[0]), got ""';
  if (typeof program === 'string' && program.trim() !== program) {
    return `a program name with spaces around it, got ${JSON.stringify(program)}: each element is one argument, with no shell to trim it (${JSON.stringify(program.trim())} is what you mean)`;
  }
  return undefined;
}

/**
 * TOML writes a NUL as "\u0000", but no argv element, path, header or environment value can hold
 * one: spawn() and every fs call throw on it, which made a build argument or lock.dir an internal
 * error mid-deploy, and a health.command a failed check after the swap. Each string is looked at,
 * wherever it sits; the value is never echoed (it may be a secret).
 */
export function checkNul(data: unknown, add: Add, path: (string | number)[] = []): void {
  if (typeof data === 'string') {
    if (data.includes('\0')) add(path, 'holds a NUL character ("\\u0000"), which no argument, path, header or environment value can carry');
  } else if (Array.isArray(data)) {
    data.forEach((v, i) => checkNul(v, add, [...path, i]));
  } else if (isTable(data)) {
    for (const [k, v] of Object.entries(data)) checkNul(v, add, [...path, k]);
  }
}

/**
 * The link bases mfd hands on: each commit status links to `<base>/runs/<id>` on the forge, for
 * anyone who can see the commit, and the notify command gets it as MFD_RUN_URL. A user:password@
 * in them (for a page behind basic auth) would be posted with every status.
 */
export function checkLinkUrls(data: unknown, add: Add): void {
  for (const path of [['status', 'target_url_base'], ['serve', 'public_url']]) {
    const value = valueAt(data, path);
    if (typeof value !== 'string' || !URL.canParse(value)) continue;
    const url = new URL(value);
    if (url.username || url.password) {
      add(path, 'holds credentials (a user name or password before the host): every commit status links to it, on the forge for anyone who can see the commit, and the notify command gets it as MFD_RUN_URL; give the URL without them ([serve] status_token protects the page)');
    }
  }
}

/**
 * A warning when a credential would cross the network unencrypted: `http://` to a host other than
 * this one. Loopback is left alone (a proxy on this host, tests); anything else may be read on the way.
 */
export function cleartextWarning(key: string, url: string, credential: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const { protocol, hostname } = new URL(url);
  if (protocol !== 'http:' || hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname)) return undefined;
  return `${key} is http:// to ${hostname}: ${credential} is sent over the network unencrypted, for anyone on the way to read; use https://`;
}

/** Why mfd cannot fetch from `url`, or undefined when it can: git's smart HTTP(S), nothing else. */
export function checkRepoUrl(url: string): string | undefined {
  const use = 'mfd fetches over HTTP(S) only; use https://host/owner/repo.git';
  // Made only for a message: describing the value runs redact.ts's expressions, 0.5 M
  // instructions of every command that reads a valid mfd.toml.
  const got = () => `got ${describeValue(maskUserinfo(url))}`;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (!scheme || !['http', 'https'].includes(scheme)) {
    const what = /^[^\s/@:]+@[^\s/@:]+:/.test(url) ? 'an SSH address (scp form)' : scheme && scheme.length > 1 ? `a ${scheme}: URL` : 'not a URL';
    return `${what}: ${use}, ${got()}`;
  }
  // `http:/host` is a URL to WHATWG parsers, which read it as `http://host`; nobody means that.
  if (!/^\/\/[^/]/.test(url.slice(scheme.length + 1))) return `expected ${scheme}:// followed by a host: ${use}, ${got()}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL parser's own message says no more than this.
    return `not a valid URL: ${use}, ${got()}`;
  }
  if (!parsed.hostname) return `expected a host after ${scheme}://: ${use}, ${got()}`;
  // `https://user:123/s3cret@host/x` is a valid URL to host "user", port 123: a password holding
  // a "/" that starts with digits. No forge's path holds an "@"; such a URL would show the rest of
  // the password in every message and in the cache's config.
  if (parsed.pathname.includes('@')) {
    return `holds an "@" after its host, as a password holding an unencoded "/" would: percent-encode it (%2F), or put it in repo.password or repo.token_file; ${got()}`;
  }
  // git's smart HTTP appends /info/refs?service=... to the URL: a query or fragment would end up
  // inside that path, and a token there would be written to the cache's config.
  if (/[?#]/.test(url)) return `holds a query or fragment (${url.includes('?') ? '?' : '#'}...), which git's HTTP protocol cannot carry (it appends /info/refs to the path): use https://host/owner/repo.git, and a token in repo.token_file or MFD_REPO_TOKEN; ${got()}`;
  return undefined;
}

/**
 * `url` with everything between its scheme and its last `@` masked, for a message that echoes it.
 * A password may hold an unencoded `/`, `?` or `#`, which ends the authority for every parser and
 * for redact.ts too, so what comes before it would be shown as if it were the host.
 */
function maskUserinfo(url: string): string {
  // No /i flag: with it, V8 folds the case of every character [^] holds when it compiles the
  // expression, 0.4 ms of every command that reads mfd.toml.
  return url.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:[/\\]*)[^]*@/, '$1***@');
}
