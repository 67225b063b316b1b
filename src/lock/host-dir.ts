// The host lock dir is used only if no user but this one and root can change what is in it: not a
// link, owned by this user or root, and writable by group or others only when sticky (sshd's
// StrictModes). Else another user could create, replace or remove the lock files of root's deploys.
import { lstatSync } from 'node:fs';
import { FsLayoutError, HostLockDirUnsafeError } from '../errors/index.ts';

/**
 * Throws unless `dir` is safe to keep lock files in; a missing dir is fine (mfd makes it, mode
 * 1777). Called after mkdir, so a dir another user put there first is checked too.
 */
export function checkHostLockDir(dir: string): void {
  const info = lstatSync(dir, { throwIfNoEntry: false });
  if (!info) return;
  // /run/lock is world-writable: anyone can put a link there before mfd first makes the dir (after
  // every reboot), and through one a deploy would create, touch and remove "lock files" wherever it points.
  if (info.isSymbolicLink()) {
    throw new FsLayoutError({ code: 'ELOOP', op: 'use host lock directory', path: dir, hint: `set [lock] dir to the directory itself, or remove the link: rm ${dir} (mfd then makes the directory, mode 1777)` });
  }
  // Not a directory: creating a lock file in it fails, naming it (ENOTDIR).
  if (!info.isDirectory()) return;
  const uid = process.geteuid?.() ?? process.getuid?.();
  if (uid === undefined) return; // not POSIX: no owners or modes to check
  // The owner of a sticky dir may still remove or rename every file in it.
  if (info.uid !== uid && info.uid !== 0) throw new HostLockDirUnsafeError(dir, { kind: 'owner', uid: info.uid }, uid);
  const mode = info.mode & 0o7777;
  if (mode & 0o022 && !(mode & 0o1000)) throw new HostLockDirUnsafeError(dir, { kind: 'mode', mode }, uid);
}
