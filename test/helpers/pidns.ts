// Signal tests run in a private pid namespace (`unshare --fork --pid --mount-proc`), so a signal
// or process group kill gone wrong cannot reach anything else on the machine. pidns-runner.mjs is
// its pid 1: it drives the processes, and its report says which ones are still alive at the end.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const RUNNER = fileURLToPath(new URL('./pidns-runner.mjs', import.meta.url));

export type Action =
  | { op: 'start'; id: string; argv: string[]; cwd: string; env?: Record<string, string> }
  | { op: 'waitOutput'; id: string; text: string }
  /** `ms`: how long to wait (30 s unless given). */
  | { op: 'waitFile'; path: string; ms?: number }
  | { op: 'checkFile'; path: string }
  | { op: 'signal'; id: string; signal: NodeJS.Signals }
  | { op: 'exit'; id: string; ms?: number };

export interface Report {
  results: Record<string, { code: number | null; signal: string | null; stdout: string; stderr: string }>;
  checks: { path: string; exists: boolean }[];
  leftover: { pid: number; state: string; cmdline: string }[];
  error?: string;
}

export async function pidNamespaceAvailable(): Promise<{ ok: true } | { ok: false; why: string }> {
  if (process.getuid?.() !== 0) return { ok: false, why: 'unshare --pid needs root (CAP_SYS_ADMIN)' };
  return new Promise((resolve) => {
    execFile('unshare', ['--fork', '--pid', '--mount-proc', 'true'], (error, _out, stderr) =>
      resolve(error ? { ok: false, why: `unshare --pid fails here: ${stderr.trim() || error.message}` } : { ok: true }),
    );
  });
}

/** Runs `actions` in a new pid namespace; everything in it is killed when the runner ends. */
/** Skips the test (true) when no pid namespace can be made here; under CI that is a failure instead. */
export async function skipUnlessPidNamespace(t: TestContext): Promise<boolean> {
  const probe = await pidNamespaceAvailable();
  if (probe.ok) return false;
  if (process.env.CI === 'true') assert.fail(`signal tests need a pid namespace: ${probe.why}`);
  t.skip(probe.why);
  return true;
}

export async function runInPidNamespace(actions: Action[], ms = 90_000): Promise<Report> {
  // --kill-child: should this test give up, the namespace's pid 1 (and so all of it) dies with unshare.
  const child = spawn('unshare', ['--fork', '--pid', '--mount-proc', '--kill-child', process.execPath, RUNNER, JSON.stringify(actions)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`the pid namespace runner failed (exit ${code}): ${stderr}`);
  const report = JSON.parse(stdout) as Report;
  if (report.error) throw new Error(`${report.error}\n${JSON.stringify(report.results, null, 2)}`);
  return report;
}
