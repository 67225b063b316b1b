// Runs the built CLI (dist/mfd.cjs) as a real child process, as a user would, and waits for
// markers on its output (crash tests pause mfd at a named step with MFD_TEST_PAUSE_AT).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MFD = fileURLToPath(new URL('../../dist/mfd.cjs', import.meta.url));

export interface MfdResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface MfdOptions {
  cwd?: string;
  /** Run this executable (the packaged single binary) instead of `node dist/mfd.cjs`. */
  bin?: string;
  env?: Record<string, string | undefined>;
}

function childEnv(extra: MfdOptions['env']): NodeJS.ProcessEnv {
  // A clean, predictable environment: no CI-inherited colour or token surprises.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, MFD_REPO_TOKEN: undefined };
  for (const [k, v] of Object.entries(extra ?? {})) env[k] = v;
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env;
}

export function startMfd(args: string[], options: MfdOptions = {}): { child: ChildProcess; done: Promise<MfdResult>; output: () => string } {
  const [file, argv] = options.bin ? [options.bin, args] : [process.execPath, [MFD, ...args]];
  const child = spawn(file, argv, {
    cwd: options.cwd,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<MfdResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, output: () => stdout + stderr };
}

export async function mfd(args: string[], options: MfdOptions = {}): Promise<MfdResult> {
  return startMfd(args, options).done;
}

/** Resolves once `text` appears on the child's stdout or stderr; fails after `ms` with what it saw. */
export async function waitForOutput(run: ReturnType<typeof startMfd>, text: string, ms = 30_000): Promise<void> {
  const { child } = run;
  const exitedError = () => new Error(`mfd exited before printing ${JSON.stringify(text)}:\n${run.output()}`);
  if (run.output().includes(text)) return;
  if (child.exitCode !== null || child.signalCode !== null) {
    // Gone already: what it printed is all there once its streams have closed.
    await run.done.catch(() => undefined);
    if (run.output().includes(text)) return;
    throw exitedError();
  }
  // Woken by the child's own events (output, its streams closing), not by a timer that polls.
  await new Promise<void>((resolve, reject) => {
    const finish = (error?: Error) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      child.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    // startMfd's listeners were added first and collect the text, so output() already holds it.
    const onData = () => {
      if (run.output().includes(text)) finish();
    };
    const onClose = () => finish(run.output().includes(text) ? undefined : exitedError());
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${JSON.stringify(text)}:\n${run.output()}`)), ms);
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('close', onClose);
  });
}
