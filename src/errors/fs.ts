// Errors of the file system under mfd's own files: a full disk (exit 9), and everything else the
// world can do to a path (permissions, a read-only mount, a file where a directory belongs: exit 10).
// toFsError turns a Node errno error into one of them, naming the path, the errno's meaning and a hint.
import { existsSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, relative, sep } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { EXIT, MfdError } from './base.ts';

export type FsErrnoKind = 'space' | 'permission' | 'layout' | 'other';

const KIND: Record<string, FsErrnoKind> = {
  ENOSPC: 'space', EDQUOT: 'space',
  EACCES: 'permission', EPERM: 'permission', EROFS: 'permission',
  ENOTDIR: 'layout', EISDIR: 'layout', EEXIST: 'layout', ENOTEMPTY: 'layout', ELOOP: 'layout',
};

/** What mfd was doing, by syscall, for the message's "cannot <op> <path>". */
const OPS: Record<string, string> = {
  open: 'open', write: 'write', read: 'read', close: 'write', fsync: 'write', mkdir: 'create directory',
  rmdir: 'remove', unlink: 'remove', rm: 'remove', rename: 'rename', symlink: 'create link', link: 'create link',
  scandir: 'read directory', opendir: 'read directory', readlink: 'read link', stat: 'read', lstat: 'read',
  utime: 'touch', chmod: 'chmod', copyfile: 'copy', statfs: 'check free space on', access: 'open',
};

export interface FsErrorInfo {
  code: string;
  op: string;
  path: string;
  dest?: string | undefined;
  /** The app root, when known: hints name it (`df -h <root>`, `chown -R … <root>/.mfd`). */
  root?: string | undefined;
  /** A hint that knows more than the errno (the host lock dir's mode, say). */
  hint?: string | undefined;
}

/** A file-system failure on a path mfd needed; the subclasses decide the exit code and hint. */
export class FsError extends MfdError {
  readonly code: string = 'FS_ERROR';
  readonly exitCode: number = EXIT.fs;
  readonly errno: string;
  readonly path: string;
  readonly op: string;
  readonly info: FsErrorInfo;
  constructor(info: FsErrorInfo, options: { reason?: string; hint?: string; cause?: unknown } = {}) {
    const target = info.dest ? `${info.path} to ${info.dest}` : info.path;
    super(`cannot ${info.op} ${target}: ${options.reason ?? meaningOf(info.code)} (${info.code})`, {
      cause: options.cause,
      hint: options.hint ?? 'check the path with: ls -ld ' + info.path + '; --verbose shows where mfd was',
    });
    this.errno = info.code;
    this.path = info.path;
    this.op = info.op;
    this.info = info;
  }
}

/** ENOSPC / EDQUOT: the app root's file system (or the user's quota) is full. */
export class DiskFullError extends FsError {
  override readonly code = 'DISK_FULL';
  override readonly exitCode = EXIT.disk;
  constructor(info: FsErrorInfo, cause?: unknown) {
    const where = info.root ?? dirname(info.path);
    super(info, {
      cause,
      hint: `free space on that file system (df -h ${where}; "mfd ls" shows old deployments); a rollback or a redeploy of a built sha still works on a full disk`,
    });
  }
}

/** EACCES / EPERM / EROFS: typically a `.mfd/` left owned by root by a `sudo mfd …` run. */
export class FsPermissionError extends FsError {
  override readonly code = 'FS_PERMISSION';
  constructor(info: FsErrorInfo, cause?: unknown) {
    const user = currentUser();
    // Creating a file needs the directory's permission: point at what exists.
    const subject = existsSync(info.path) ? info.path : dirname(info.path);
    const top = topUnder(info.root, subject);
    super(info, {
      cause,
      hint: info.hint ??
        (info.code === 'EROFS'
          ? `the file system is mounted read-only; remount it read-write (see: findmnt -T ${info.path})`
          : `see who owns it: ls -ld ${subject}; run mfd as the user that owns the app root (this is ${user}), or give it back: sudo chown -R ${user} ${top}`),
    });
  }
}

/** ENOTDIR / EISDIR / EEXIST …: something of the wrong type sits where mfd keeps a file or directory. */
export class FsLayoutError extends FsError {
  override readonly code = 'FS_LAYOUT';
  constructor(info: FsErrorInfo, cause?: unknown) {
    const culprit = info.code === 'ENOTDIR' ? nonDirectoryAbove(info.path) : undefined;
    const reason =
      culprit !== undefined ? `${culprit} is not a directory`
        : info.code === 'EISDIR' ? 'it is a directory, where mfd keeps a file'
          : info.code === 'ELOOP' ? 'it is a symbolic link, which mfd never reads or writes through'
            : undefined;
    const what = culprit ?? info.path;
    super(info, {
      cause,
      ...(reason ? { reason } : {}),
      hint: info.hint ?? `something of the wrong type is in mfd's place: see ls -ld ${what}; move it aside (mv ${what} ${what}.bak) and run mfd again`,
    });
  }
}

/** The same error with hints that name the app root (known only once the config is loaded). */
export function rooted(error: FsError, root: string | undefined): FsError {
  if (root === undefined || error.info.root !== undefined || error.constructor === FsError) return error;
  const info = { ...error.info, root };
  if (error instanceof DiskFullError) return new DiskFullError(info, error.cause);
  if (error instanceof FsPermissionError) return new FsPermissionError(info, error.cause);
  return new FsLayoutError(info, error.cause);
}

/** The errno code of a Node file-system error (also of ERR_FS_* SystemErrors), or undefined. */
export function errnoCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; info?: { code?: unknown } } | undefined;
  if (typeof e?.code !== 'string') return undefined;
  if (e.code.startsWith('ERR_FS_') && typeof e.info?.code === 'string') return e.info.code;
  return /^E[A-Z0-9]+$/.test(e.code) ? e.code : undefined;
}

export function isDiskFull(error: unknown): boolean {
  return error instanceof DiskFullError || KIND[errnoCode(error) ?? ''] === 'space';
}

/**
 * The FsError for a Node errno error of a file-system call, or undefined when `error` is not one
 * (an MfdError, a bug, a network error). `path` names the file when the error has none (a write on
 * an open handle carries no path).
 */
export function toFsError(error: unknown, context: { path?: string; op?: string; root?: string } = {}): FsError | undefined {
  if (error instanceof FsError) return error;
  if (error instanceof MfdError) return undefined;
  const code = errnoCode(error);
  const e = error as { syscall?: unknown; path?: unknown; dest?: unknown; info?: { path?: unknown; dest?: unknown; syscall?: unknown } };
  const syscall = typeof e.syscall === 'string' ? e.syscall : typeof e.info?.syscall === 'string' ? e.info.syscall : undefined;
  const own = pathOf(e.path) ?? pathOf(e.info?.path);
  const path = own ?? context.path;
  // Sockets carry a syscall too (connect, getaddrinfo) but never a path: those are not ours.
  const op = own !== undefined && syscall !== undefined ? (OPS[syscall] ?? syscall) : (context.op ?? (syscall && OPS[syscall]));
  if (!code || path === undefined || !op) return undefined;
  const dest = pathOf(e.dest) ?? pathOf(e.info?.dest);
  const info: FsErrorInfo = { code, path, dest, root: context.root, op };
  switch (KIND[code]) {
    case 'space':
      return new DiskFullError(info, error);
    case 'permission':
      return new FsPermissionError(info, error);
    case 'layout':
      return new FsLayoutError(info, error);
    default:
      return new FsError(info, { cause: error });
  }
}

/**
 * A full disk or a permission problem while writing a checkout is not the commit's fault:
 * reported as itself (exit 9, exit 10) rather than as a failed checkout.
 */
export function worldFsError(error: unknown): FsError | undefined {
  const fsError = toFsError(error);
  return fsError instanceof DiskFullError || fsError instanceof FsPermissionError ? fsError : undefined;
}

/** Runs `fn`, turning an errno error into an FsError; `path` and `op` name it when the error has no path (a write on a handle). */
export async function onPath<T>(path: string, op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toFsError(error, { path, op }) ?? error;
  }
}

/** Calls given a Buffer path (checkout.ts writes names as git stores them) report it as one. */
function pathOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
}

function meaningOf(code: string): string {
  for (const [name, message] of getSystemErrorMap().values()) if (name === code) return message;
  return 'file system error';
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // A uid with no passwd entry (a container): the number is what chown takes anyway.
    return String(process.getuid?.() ?? 'you');
  }
}

/** `<root>/.mfd` for `<root>/.mfd/logs/x.log`: what a chown must cover; the path itself outside root. */
function topUnder(root: string | undefined, path: string): string {
  if (!root) return path;
  const rel = relative(root, path);
  if (rel === '' || rel.startsWith('..')) return path;
  // A path under root: the entry directly in it (`.mfd`), which the chown must cover whole.
  return `${root}${sep}${rel.split(sep)[0]}`;
}

/** The first component of `path` that is not a directory (links followed, as the kernel does): the cause of an ENOTDIR. */
function nonDirectoryAbove(path: string): string | undefined {
  const parts: string[] = [];
  for (let p = path; dirname(p) !== p; p = dirname(p)) parts.unshift(p);
  for (const p of parts) {
    try {
      if (!statSync(p).isDirectory()) return p;
    } catch {
      // Missing (or unreadable): not the component in the way; look further down.
      return undefined;
    }
  }
  return undefined;
}
