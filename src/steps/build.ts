// Runs [build].commands, argv arrays, one after another in the deployment directory (never a shell).
// The first failing command stops the build with a BuildFailedError naming it, its status and output.
// A command [[build.cache]] can satisfy from a kept deployment is skipped (build-cache.ts).
// What a command leaves running in its process group is stopped once it exits, as CI runners do.
import { BuildFailedError } from '../errors/index.ts';
import { describeOutcome, run } from '../sys/exec.ts';
import type { BuildCache, Reuse } from './build-cache.ts';

export interface BuildOptions {
  dir: string;
  commands: readonly (readonly string[])[];
  /** The Context's environment, which every command inherits. */
  baseEnv: Readonly<Record<string, string | undefined>>;
  /** Added for the build: MFD_COMMIT, MFD_REF, MFD_DEPLOYMENT_DIR. */
  env: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
  logFile: string;
  onCommand?: (argv: readonly string[], index: number) => void;
  /** [[build.cache]]: a command whose outputs it reuses is skipped (and onReuse told), not run. */
  cache?: BuildCache;
  onReuse?: (argv: readonly string[], reuse: Reuse) => void;
  onOutput?: (chunk: string) => void;
  onSpawn?: (pid: number, start: string | undefined) => void;
  /** Told of what a command left running in its process group, which was stopped. */
  onWarning?: (message: string, hint: string) => void;
}

export interface BuildStepTiming {
  argv: string[];
  durationMs: number;
  /** Skipped: its outputs were copied from this deployment. */
  reusedFrom?: string;
}

export async function runBuild(options: BuildOptions): Promise<BuildStepTiming[]> {
  const timings: BuildStepTiming[] = [];
  // Monotonic: a clock set back (NTP) must neither extend the build's budget nor cut it short.
  const deadline = options.timeoutMs === undefined ? undefined : performance.now() + options.timeoutMs;
  for (const [index, argv] of options.commands.entries()) {
    const started = performance.now();
    // Its copies are processes of the build too: recorded as a command's are (onSpawn).
    const reuse = await options.cache?.tryReuse(index, argv, options.onSpawn);
    if (reuse) {
      options.onReuse?.(argv, reuse);
      timings.push({ argv: [...argv], durationMs: performance.now() - started, reusedFrom: reuse.from });
      continue;
    }
    options.onCommand?.(argv, index);
    // build.timeout bounds the whole build, so each command gets what is left of it.
    const timeoutMs = deadline === undefined ? undefined : Math.max(1, Math.ceil(deadline - performance.now()));
    const result = await run(argv, {
      cwd: options.dir,
      env: { ...options.baseEnv, ...options.env },
      // The token is for fetching; build commands (and their logs) never see it.
      envRemove: ['MFD_REPO_TOKEN'],
      timeoutMs,
      signal: options.signal,
      onOutput: (chunk) => options.onOutput?.(chunk),
      // A background job would hold the deployment (and perhaps its output) past the build.
      leftovers: 'stop',
      ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
    });
    if (result.leftovers) {
      const { count } = result.leftovers;
      const what = count === undefined ? 'processes' : count === 1 ? '1 process' : `${count} processes`;
      options.onWarning?.(
        `build command ${JSON.stringify(argv)} left ${what} running in its process group after it exited: stopped`,
        'a build command must not leave jobs behind; run what has to keep running as a systemd unit',
      );
    }
    if (!result.ok) {
      throw new BuildFailedError([...argv], describeOutcome(result.outcome), result.tail, options.logFile);
    }
    options.cache?.ran(index);
    timings.push({ argv: [...argv], durationMs: result.durationMs });
  }
  return timings;
}
