// Runs a test file inside a private pid namespace (unshare --fork --pid --mount-proc): whatever it
// signals can reach only processes of that namespace, and all of them die when it ends.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** True inside the namespace: the file then runs its real tests instead of re-running itself. */
export const IN_PID_NAMESPACE = process.env.MFD_TEST_PID_NAMESPACE === '1';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ARGS = ['--fork', '--pid', '--mount-proc'];
/** The inner run is killed after this long, and with it (--kill-child) everything in its namespace. */
const LIMIT_MS = 240_000;

/** Why a private pid namespace cannot be made here, or undefined when it can. */
function pidNamespaceUnavailable(): string | undefined {
  const probe = spawnSync('unshare', [...ARGS, 'true'], { encoding: 'utf8' });
  if (probe.error) return `unshare is not available: ${probe.error.message}`;
  if (probe.status !== 0) return `unshare ${ARGS.join(' ')} fails here: ${probe.stderr.trim() || `exit ${probe.status}`}`;
  return undefined;
}

/**
 * Runs `file` with node --test inside a new pid namespace; resolves with its exit code and output.
 * A .ts file (run from source) needs the tsx loader; the suite's transpiled .js twin runs without it.
 */
function runInPidNamespace(file: string): Promise<{ code: number | null; output: string }> {
  const loader = file.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn('unshare', [...ARGS, '--kill-child', process.execPath, ...loader, '--test', '--test-reporter=spec', file], {
    cwd: REPO,
    // Without NODE_TEST_CONTEXT: inherited from our own runner, it would make the inner one report to us and run nothing.
    env: { ...process.env, MFD_TEST_PID_NAMESPACE: '1', NODE_TEST_CONTEXT: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: LIMIT_MS,
    killSignal: 'SIGKILL',
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * Outside the namespace, a signal test file's one test: it re-runs `file` (the caller's
 * import.meta.filename) inside a namespace and passes when every test there did, each shown as
 * a diagnostic. Skipped where no namespace can be made, which under CI is a failure instead.
 */
export function testInPidNamespace(name: string, file: string): void {
  test(name, async (t) => {
    const why = pidNamespaceUnavailable();
    if (why) {
      if (process.env.CI === 'true') assert.fail(why);
      t.skip(why);
      return;
    }
    const r = await runInPidNamespace(file);
    for (const line of r.output.split('\n').filter((l) => /^\s*[✔✖]/.test(l))) t.diagnostic(line.trim());
    assert.equal(r.code, 0, r.output);
  });
}
