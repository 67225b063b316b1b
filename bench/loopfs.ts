// A fresh file system of a given kind for a bench to run on: a sparse image file in a temp
// directory, made by mkfs.<kind>, loop-mounted, and unmounted and removed whatever happens (root only).
import { spawn } from 'node:child_process';
import { mkdir, open, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

export const LOOP_KINDS = ['ext4', 'xfs', 'btrfs'] as const;
export type LoopKind = (typeof LOOP_KINDS)[number];

// Debian packages: e2fsprogs (always there), xfsprogs, btrfs-progs. mkfs.xfs makes reflink file
// systems by default since xfsprogs 5.1; Btrfs always shares blocks on a reflink copy.
const MKFS: Record<LoopKind, { argv: (image: string) => string[]; pkg: string }> = {
  ext4: { argv: (image) => ['mkfs.ext4', '-q', '-F', image], pkg: 'e2fsprogs' },
  xfs: { argv: (image) => ['mkfs.xfs', '-q', image], pkg: 'xfsprogs' },
  btrfs: { argv: (image) => ['mkfs.btrfs', '-q', image], pkg: 'btrfs-progs' },
};

function exec(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited ${code}: ${err.trim().slice(-300)}`))));
  });
}

/** Runs `fn` with the mount point of a new `kind` file system of `bytes` (sparse) made in `dir`. */
export async function withLoopMount<T>(kind: LoopKind, dir: string, bytes: number, fn: (mount: string) => Promise<T>): Promise<T> {
  const image = join(dir, `${kind}.img`);
  const mount = join(dir, `${kind}.mnt`);
  const file = await open(image, 'wx');
  try {
    await file.truncate(bytes);
  } finally {
    await file.close();
  }
  let mounted = false;
  try {
    await exec(MKFS[kind].argv(image)).catch((error: Error) => {
      throw new Error(`${error.message}\n  hint: mkfs.${kind} comes with Debian's ${MKFS[kind].pkg} (apt-get install -y ${MKFS[kind].pkg}); mounting needs root`);
    });
    await mkdir(mount);
    // -o loop attaches a loop device with autoclear: umount detaches it again.
    await exec(['mount', '-o', 'loop', image, mount]);
    mounted = true;
    return await fn(mount);
  } finally {
    // A failed umount throws here: nothing below may run on a file system still mounted.
    if (mounted) await exec(['umount', mount]);
    await rm(image, { force: true });
    // rmdir, not rm -r: the mount point is empty once unmounted, and never emptied by us.
    await rmdir(mount).catch(() => undefined); // absent when mkfs failed before it was made

  }
}
