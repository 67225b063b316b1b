// Runs [build].commands, argv arrays, one after another in the deployment directory (never a shell).
// The first failing command stops the build with a BuildFailedError naming it, its status and output.
import { BuildFailedError } from '../errors/index.ts';
import { describeOutcome, run } from '../sys/exec.ts';

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
  onOutput?: (chunk: string) => void;
  onSpawn?: (pid: number, start: string | undefined) => void;
}

export interface BuildStepTiming {
  argv: string[];
  durationMs: number;
}

export async function runBuild(options: BuildOptions): Promise<BuildStepTiming[]> {
  const timings: BuildStepTiming[] = [];
  // Monotonic: a clock set back (NTP) must neither extend the build's budget nor cut it short.
  const deadline = options.timeoutMs === undefined ? undefined : performance.now() + options.timeoutMs;
  for (const [index, argv] of options.commands.entries()) {
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
      ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
    });
    if (!result.ok) {
      throw new BuildFailedError([...argv], describeOutcome(result.outcome), result.tail, options.logFile);
    }
    timings.push({ argv: [...argv], durationMs: result.durationMs });
  }
  return timings;
}
