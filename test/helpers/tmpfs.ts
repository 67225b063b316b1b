// A small real file system to fill up: a tmpfs mounted over a test's directory inside a private
// mount namespace (held by a `cat` that ends when its stdin closes), so nothing leaks onto the
// machine. mfd runs in that namespace through nsenter; the test reads and writes it via /proc/<pid>/root.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { MFD } from './cli.ts';

export interface Tmpfs {
  /** `path` (on the tmpfs or anywhere) as the test process reaches it inside the namespace. */
  at(path: string): string;
  /** argv prefix running a command in the namespace: for mfd(args, { bin }) use mfdArgs. */
  mfdArgs(args: string[]): { bin: string; args: string[] };
  /** Writes zeros to `file` until the file system refuses (ENOSPC); returns the bytes written. */
  fill(file: string): number;
}

/** Skips the test with a reason where a mount namespace cannot be made (not root, no unshare). */
export async function mountTmpfs(t: TestContext, dir: string, size: string): Promise<Tmpfs | undefined> {
  if (process.getuid?.() !== 0) {
    t.skip('mounting a tmpfs needs root (CAP_SYS_ADMIN)');
    return undefined;
  }
  // Paths come in through the environment, never interpolated into the script.
  const child = spawn('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o "size=$SIZE" tmpfs "$DIR" && echo ready && exec cat'], {
    env: { ...process.env, SIZE: size, DIR: dir },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => child.stdin!.end());
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`unshare/mount exited ${code}: ${out}`)));
  });
  const pid = child.pid!;
  return {
    at: (path) => `/proc/${pid}/root${path}`,
    mfdArgs: (args) => ({ bin: 'nsenter', args: [`--mount=/proc/${pid}/ns/mnt`, '--', process.execPath, MFD, ...args] }),
    fill(file) {
      const fd = openSync(`/proc/${pid}/root${file}`, 'a');
      const chunk = Buffer.alloc(64 * 1024);
      let total = 0;
      try {
        for (;;) total += writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(fd);
      }
      return total;
    },
  };
}

/** argv prefix running the built CLI as user nobody (65534): root bypasses permission checks. */
export function asNobody(args: string[]): { bin: string; args: string[] } {
  return { bin: 'setpriv', args: ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, MFD, ...args] };
}
