// A real Context for an app root, built by the real factory (src/context.ts) without spawning the
// CLI: the app's real mfd.toml, a Reporter whose output the test reads, an abort controller the
// test can fire, and an environment the test chooses. Orchestration tests call run/ with it.
import { join } from 'node:path';
import { createContext, type Context, type Decisions } from '../../src/context.ts';
import type { LockBackend } from '../../src/lock/backend.ts';
import { Reporter } from '../../src/sys/output.ts';

export interface TestRun {
  ctx: Context;
  /** Everything the Reporter wrote: results on stdout, progress and warnings on stderr. */
  stdout: () => string;
  stderr: () => string;
  controller: AbortController;
}

export interface TestContextOptions {
  /** Added to the test process's environment (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  requested?: Partial<Decisions>;
  now?: () => number;
  json?: boolean;
  /** Another real lock backend in place of the lock file (e.g. test/helpers/memory-lock.ts). */
  lockBackend?: LockBackend;
}

/** As the e2e helper runs the CLI: no colour, no token inherited from the machine. */
function testEnv(extra: TestContextOptions['env']): Record<string, string> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, MFD_REPO_TOKEN: undefined, MFD_TEST_PAUSE_AT: undefined, ...extra };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

export async function testContext(root: string, options: TestContextOptions = {}): Promise<TestRun> {
  let out = '';
  let err = '';
  const reporter = new Reporter({
    mode: options.json ? 'json' : 'plain',
    color: false,
    verbose: false,
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
  });
  const controller = new AbortController();
  const ctx = await createContext({
    configFile: join(root, 'mfd.toml'),
    env: testEnv(options.env),
    reporter,
    signal: controller.signal,
    ...(options.requested ? { requested: options.requested } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.lockBackend ? { lockBackend: options.lockBackend } : {}),
  });
  return { ctx, stdout: () => out, stderr: () => err, controller };
}

/**
 * A deploy in-process on a Context of its own, for e2e tests whose scene needs a deployment but
 * whose subject is another process: what it printed comes back for the test to read.
 */
export async function deployInProcess(root: string, ref?: string, options: TestContextOptions = {}): Promise<{ sha: string; stdout: string; stderr: string }> {
  const { deploy } = await import('../../src/run/deploy.ts');
  const run = await testContext(root, options);
  const result = await deploy(run.ctx, ref);
  return { sha: result.sha, stdout: run.stdout(), stderr: run.stderr() };
}
