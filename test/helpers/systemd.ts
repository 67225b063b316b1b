// A real `systemd --user` per test (TESTING.md §3), in a private mount namespace so it finds
// /run/systemd/system without touching the machine. Skipped with a reason where it cannot run;
// under CI=true a missing systemd fails the test instead, so CI cannot pass without it.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tmpRoot } from './repo.ts';

const SYSTEMD = '/lib/systemd/systemd';
// Paths come in through the environment, never interpolated into the script.
const SCRIPT = 'mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system && exec "$MFD_SYSTEMD" --user';

export interface UserSystemd {
  /** What `systemctl --user` (and mfd) need to find this manager. */
  env: { XDG_RUNTIME_DIR: string };
  /** `name` is a service's (`app`), or a unit file's with its suffix (`app.socket`). */
  installUnit(name: string, text: string): Promise<void>;
  systemctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/**
 * A unit name no other test uses. Managers side by side share one cgroup tree, so same-named
 * units of two tests share a cgroup, and restarting one kills the other's processes.
 */
export const uniqueUnit = (prefix = 'app'): string => `${prefix}-${randomUUID().slice(0, 8)}`;

export async function systemdAvailable(): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    await access(SYSTEMD);
  } catch {
    return { ok: false, why: `${SYSTEMD} is not installed` };
  }
  if (process.getuid?.() !== 0) return { ok: false, why: 'unshare -m needs root (CAP_SYS_ADMIN)' };
  const probe = await execute('unshare', ['-m', 'true'], {});
  if (probe.code !== 0) return { ok: false, why: `unshare -m fails here: ${probe.stderr.trim() || `exit ${probe.code}`}` };
  return { ok: true };
}

/** Starts a manager under `dir` (must be new); the caller stops it. */
export async function startSystemd(dir: string): Promise<UserSystemd> {
  const run = join(dir, 'run');
  const config = join(dir, 'config');
  await mkdir(run, { recursive: true, mode: 0o700 });
  await mkdir(join(config, 'systemd', 'user'), { recursive: true });
  const env = { XDG_RUNTIME_DIR: run };
  const child: ChildProcess = spawn('unshare', ['-m', 'sh', '-c', SCRIPT], {
    env: { ...process.env, ...env, XDG_CONFIG_HOME: config, MFD_SYSTEMD: SYSTEMD },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  // Ready when its private socket exists: an event, awaited with a bounded poll.
  const end = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`systemd --user exited early: ${stderr.trim()}`);
    if (await access(join(run, 'systemd', 'private')).then(() => true, () => false)) break;
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`systemd --user did not become ready in 15s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }

  const systemctl = (...args: string[]) => execute('systemctl', ['--user', ...args], env);
  return {
    env,
    systemctl,
    async installUnit(name, text) {
      const file = /\.(service|socket)$/.test(name) ? name : `${name}.service`;
      await writeFile(join(config, 'systemd', 'user', file), `${text.trim()}\n`);
      const r = await systemctl('daemon-reload');
      if (r.code !== 0) throw new Error(`daemon-reload failed: ${r.stderr}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGTERM makes the manager stop its units and exit (about 20 ms).
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A manager for this test, stopped in t.after; skips (or, under CI, fails) where none can run. */
export async function requireSystemd(t: TestContext): Promise<UserSystemd | undefined> {
  const available = await systemdAvailable();
  if (!available.ok) {
    if (process.env.CI === 'true') throw new Error(`systemd tests cannot run: ${available.why}`);
    t.skip(`no user systemd: ${available.why}`);
    return undefined;
  }
  const systemd = await startSystemd(await tmpRoot(t));
  t.after(() => systemd.stop());
  return systemd;
}

function execute(file: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
