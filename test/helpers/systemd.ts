// A real `systemd --user` per test (TESTING.md §3), in a private mount namespace so it finds
// /run/systemd/system without touching the machine. Skipped with a reason where it cannot run;
// under CI=true a missing systemd fails the test instead, so CI cannot pass without it.
// Each manager runs in a cgroup of its own, so two of them never share a unit's cgroup.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { access, mkdir, readdir, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tmpRoot } from './repo.ts';

const SYSTEMD = '/lib/systemd/systemd';
// Paths come in through the environment, never interpolated into the script. A manager started
// from a process of the machine's root cgroup (here /init.scope) takes the root as its own and
// puts unit `app` in /app.slice/app.service, the same cgroup for every manager on the machine:
// one manager's stop then kills (or waits 90 s for) another's service. So the shell first moves
// itself into a new cgroup of each hierarchy (MFD_CGROUPS, made by privateCgroups), which the
// manager then takes as its root; where none can be made (no permission), it runs as before.
const SCRIPT = [
  'for d in $MFD_CGROUPS; do echo $$ > "$d/cgroup.procs"; done;',
  'mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system && exec "$MFD_SYSTEMD" --user',
].join(' ');

/** A new cgroup `name` in each hierarchy systemd tracks units in (the named v1 one and the unified one, or cgroup2 alone). */
async function privateCgroups(name: string): Promise<string[]> {
  const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);
  const roots = (await isDir('/sys/fs/cgroup/systemd')) ? ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'] : ['/sys/fs/cgroup'];
  const made: string[] = [];
  for (const root of roots) {
    if (!(await access(join(root, 'cgroup.procs')).then(() => true, () => false))) continue;
    // Not made (no permission, read-only): the manager shares the root cgroup, as before.
    if (await mkdir(join(root, name)).then(() => true, () => false)) made.push(join(root, name));
  }
  return made;
}

/** Removes a cgroup this helper made and the sub-cgroups its manager made, deepest first. */
async function removeCgroup(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await removeCgroup(join(dir, e.name));
  // EBUSY: a process is still in it (a manager killed with SIGKILL); ENOENT: never made. Either
  // way only an empty cgroup is left behind, which holds nothing and costs nothing.
  await rmdir(dir).catch(() => undefined);
}

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
  const cgroups = await privateCgroups(`mfd-test-${process.pid}-${randomBytes(4).toString('hex')}`);
  const child: ChildProcess = spawn('unshare', ['-m', 'sh', '-c', SCRIPT], {
    env: { ...process.env, ...env, XDG_CONFIG_HOME: config, MFD_SYSTEMD: SYSTEMD, MFD_CGROUPS: cgroups.join(' ') },
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
      if (child.exitCode === null && child.signalCode === null) {
        // SIGTERM makes the manager stop its units and exit (about 20 ms).
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      for (const dir of cgroups) await removeCgroup(dir);
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
