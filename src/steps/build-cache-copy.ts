// Copies one [[build.cache]] output out of a kept deployment: copy-on-write where the file system
// can, a plain copy where not, never a hard link, links copied as links (never followed).
import { constants, type Stats } from 'node:fs';
import { chmod, cp, lchown, lstat, mkdir, readdir, rm, utimes } from '../sys/files.ts';
import { dirname } from 'node:path';
import { run } from '../sys/exec.ts';

type Env = Readonly<Record<string, string | undefined>>;
/** Told of each process group the copy starts (its leader's pid and start time), as a build command's is. */
export type OnSpawn = (pid: number, start: string | undefined) => void;

/** cp processes sharing a directory's entries: the fastest of 1, 2, 4 and 8 on ext4, XFS and Btrfs (bench/README.md, 2026-12-01). */
const COPIERS = 4;

/**
 * GNU cp first: `-a` copies links as links and keeps modes and times, and `--reflink=auto` shares
 * blocks where the file system can; it copies a node_modules some four times faster than fs.cp.
 * Without it (or where it fails, BusyBox say) fs.cp does the same. `dest` must not exist: what
 * is there after a failure is this call's own, and removed.
 */
export async function copyTree(src: string, dest: string, env: Env, onSpawn?: OnSpawn): Promise<void> {
  // MFD_DEPLOYMENT_DIR: what lets recovery prove a cp is this build's, should xargs die first (process.ts groupRemnant).
  const cpEnv = { PATH: env.PATH, LC_ALL: 'C', MFD_DEPLOYMENT_DIR: env.MFD_DEPLOYMENT_DIR };
  const st = await lstat(src);
  const ok = st.isDirectory()
    ? await copyDirectory(src, dest, st, cpEnv, onSpawn)
    : (await run(['cp', '-a', '--reflink=auto', '--no-target-directory', '--', src, dest], { cwd: dirname(dest), env: cpEnv, ...(onSpawn ? { onSpawn } : {}) })).ok;
  if (ok) return;
  await rm(dest, { recursive: true, force: true });
  // FICLONE: copy-on-write where the file system has it, a plain copy where not; never a hard link.
  await cp(src, dest, {
    recursive: true, mode: constants.COPYFILE_FICLONE, verbatimSymlinks: true,
    force: false, errorOnExist: true, preserveTimestamps: true,
  });
}

/**
 * One cp is one thread of small-file syscalls; a node_modules is thousands of small files. So the
 * top-level entries are shared among COPIERS cp processes (`cp -a -t dest a b c`), and the
 * directory itself gets the mode, owner and times `cp -a` would have given it, once they are done.
 * The cps are started by one `xargs -P`, so all of them are in its one process group: the group
 * the deploy records as its build's (onSpawn), which recovery stops should mfd be killed meanwhile.
 */
async function copyDirectory(src: string, dest: string, st: Stats, env: Env, onSpawn?: OnSpawn): Promise<boolean> {
  const names = (await readdir(src)).sort();
  // 0o700 until filled, as cp does: nobody else reads a half-copied tree.
  await mkdir(dest, { mode: 0o700 });
  if (names.length > 0) {
    const perCopier = Math.ceil(names.length / COPIERS);
    // Names relative to src (its cwd), NUL-separated on stdin, each cp's after `--`: any name is a
    // name, even one with a newline or a leading "-". Dealt round-robin, as sorted names cluster.
    const dealt = Array.from({ length: COPIERS }, (_, g) => names.filter((_, i) => i % COPIERS === g)).flat();
    const argv = ['xargs', '-0', '-n', String(perCopier), '-P', String(COPIERS), 'cp', '-a', '--reflink=auto', '-t', dest, '--'];
    const result = await run(argv, { cwd: src, env, input: dealt.map((n) => `${n}\0`).join(''), ...(onSpawn ? { onSpawn } : {}) });
    if (!result.ok) return false;
  }
  const made = await lstat(dest);
  if (made.uid !== st.uid || made.gid !== st.gid) {
    // As `cp -a` run by a user other than root: an owner it may not give is left as it is.
    await lchown(dest, st.uid, st.gid).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPERM') throw error;
    });
  }
  await chmod(dest, st.mode & 0o7777);
  await utimes(dest, st.atime, st.mtime);
  return true;
}
