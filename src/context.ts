// The Context: everything a command may know of the outside, built per app by createContext, the
// one factory. Only it (and cli.ts) reads process.env, the clock, the pid or the host name; the
// environment, identity and test hook are read once, so nothing changes under a running deploy.
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { loadConfig, type Config } from './config/config.ts';
import { layoutOf, type Layout } from './state/layout.ts';
import { SECRET_VARS } from './config/secret.ts';
import type { LockBackend } from './lock/backend.ts';
import { fileBackend } from './lock/file.ts';
import type { Progress, Reporter } from './sys/output.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Which process this is, as lock files and records name it. */
export interface Identity {
  /** $USER, else $LOGNAME, else `unknown`. */
  user: string;
  /** $HOSTNAME, else the kernel's host name. */
  host: string;
  pid: number;
}

/** What a command decided from its flags and the config: orchestration gets these, never flags. */
export interface Decisions {
  /** Wait for a held deploy lock (--wait, or [lock] wait = true). */
  wait: boolean;
  /** unlock --force: remove a lock whose holder is alive. */
  force: boolean;
  /** deploy --dry-run: say what a deploy would do, change nothing. */
  dryRun: boolean;
}

export interface Context extends Decisions {
  root: string;
  layout: Layout;
  config: Config;
  /** The terminal Reporter; inside a deploy or rollback, its Run (run/run.ts). */
  reporter: Progress;
  /** Milliseconds since the epoch. */
  now: () => number;
  signal: AbortSignal;
  /** The environment children inherit: a frozen copy, without MFD_TEST_PAUSE_AT and the secret variables (SECRET_VARS). */
  env: Env;
  identity: Identity;
  /** The crash-test hook (TESTING.md §4): the step at which to pause, read once. */
  testHook: { pauseAt: string | undefined };
  /** Where every command and run takes and looks at locks: the lock file unless the factory was given another. */
  lockBackend: LockBackend;
}

export const TEST_PAUSE_VAR = 'MFD_TEST_PAUSE_AT';

export interface ContextInput {
  /** The app's mfd.toml; its directory is the app root. */
  configFile: string;
  /** The process environment, as given to main (read here, once). */
  env: Env;
  reporter: Reporter;
  /** The signal, or how to make it when first asked for (cli.ts). */
  signal: AbortSignal | (() => AbortSignal);
  /** What the command's flags ask for; `wait` is combined with [lock] wait. */
  requested?: Partial<Decisions>;
  /** Tests pass a controllable clock; default the wall clock. */
  now?: () => number;
  /** Tests pass another real backend (e.g. rooted elsewhere); default the lock file. */
  lockBackend?: LockBackend;
}

/** Loads the app's config and builds its Context. Warnings (config, test hook) go to the reporter. */
export async function createContext(input: ContextInput): Promise<Context> {
  const { reporter } = input;
  const pauseAt = input.env[TEST_PAUSE_VAR] || undefined;
  // The config reads the secrets from the full environment; children inherit it without them.
  const withoutHook = Object.fromEntries(Object.entries(input.env).filter(([name]) => name !== TEST_PAUSE_VAR));
  const env = Object.freeze(Object.fromEntries(Object.entries(withoutHook).filter(([name]) => !SECRET_VARS.includes(name))));
  if (pauseAt) {
    // A stray variable on a server must never silently hang a deploy.
    reporter.warn(`${TEST_PAUSE_VAR} is set: this deploy will pause at ${pauseAt} and wait forever; unset it on a server`);
  }
  const config = await loadConfig(input.configFile, withoutHook);
  for (const w of config.warnings) reporter.warn(w);
  const root = dirname(input.configFile);
  // The host name only when first asked for (a lock, a record): os.hostname() loads node:os.
  let host: string | undefined;
  const identity: Identity = {
    user: env.USER || env.LOGNAME || 'unknown',
    get host() {
      return (host ??= env.HOSTNAME || hostname());
    },
    pid: process.pid,
  };
  const requested = input.requested ?? {};
  const { signal } = input;
  const decisions: Decisions = {
    wait: !!requested.wait || config.lock.wait,
    force: !!requested.force,
    dryRun: !!requested.dryRun,
  };
  return {
    root,
    layout: layoutOf(root, identity.pid),
    config,
    reporter,
    now: input.now ?? (() => Date.now()),
    get signal() {
      return typeof signal === 'function' ? signal() : signal;
    },
    env,
    identity,
    testHook: { pauseAt },
    lockBackend: input.lockBackend ?? fileBackend,
    ...decisions,
  };
}
