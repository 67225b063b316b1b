// The promise-returning file calls mfd makes. node:fs/promises costs every start 1.5-2 ms to load
// (it brings FileHandle, fs/dir, watchers and readline with it) while node:fs is loaded with Node
// itself; so only open(), whose FileHandle nothing else gives, loads it, on first use. Each function
// keeps node:fs/promises' behaviour and types (test/sys/files.test.ts checks they answer alike).
//
// The calls that only look (stat, lstat, readlink, readdir) and readFile run synchronously, their
// result or error handed back as a settled promise: what mfd reads this way is its own small state
// (mfd.toml, records, the active link, a lock file, /proc/PID/stat) on a local disk, where a trip
// through libuv's thread pool costs more than the read itself (a hand-off each way per call, and
// the pool's four threads started on first use): `mfd ls` used the pool for 14 calls. The rest
// (writes, removals, copies) stay asynchronous: a prune removes whole trees.
import { chmod as chmodCb, closeSync, constants, cp as cpCb, fstatSync, lchown as lchownCb, link as linkCb, lstatSync, lutimes as lutimesCb, mkdir as mkdirCb, openSync, readdirSync, readFileSync, readlinkSync, rename as renameCb, rm as rmCb, statSync, statfs as statfsCb, symlink as symlinkCb, utimes as utimesCb } from 'node:fs';
import type * as fsp from 'node:fs/promises';
import { open as openHandle } from 'node:fs/promises';
import { promisify } from 'node:util';

/** `call`'s value as a resolved promise, or what it threw as a rejected one. */
function settled<A extends unknown[], R>(call: (...args: A) => R): (...args: A) => Promise<R> {
  return (...args) => {
    try {
      return Promise.resolve(call(...args));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/**
 * promisify(call), made at the first call: Node compiles promisify afresh in every process, and
 * ten of them at start-up cost every command 1 M instructions (`mfd ls` calls none of them).
 */
function promised<T>(call: (...args: never[]) => unknown): T {
  let made: ((...args: unknown[]) => Promise<unknown>) | undefined;
  return ((...args: unknown[]) => (made ??= promisify(call as (...a: unknown[]) => void) as (...a: unknown[]) => Promise<unknown>)(...args)) as T;
}

/**
 * readFileSync, except that it cannot hang: the file is opened non-blocking (a FIFO in a file's
 * place gives what it holds, or EAGAIN, instead of waiting for a writer for ever) and must be a
 * regular file or a directory (EISDIR, as readFile says) by its descriptor, so a device never
 * streams into memory. A /proc file is a regular file.
 */
function readNow(path: string, options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): string | Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const kind = fstatSync(fd);
    if (!kind.isFile() && !kind.isDirectory()) throw notRegular(path);
    return readFileSync(fd, options);
  } finally {
    closeSync(fd);
  }
}

/** An errno error, as node:fs makes them, for a path that is neither a file nor a directory. */
function notRegular(path: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`EINVAL: not a regular file, read '${path}'`);
  Object.assign(error, { errno: -22, code: 'EINVAL', syscall: 'read', path }); // -22: EINVAL on Linux
  return error;
}

export const chmod = promised<typeof fsp.chmod>(chmodCb);
export const cp = promised<typeof fsp.cp>(cpCb);
export const lchown = promised<typeof fsp.lchown>(lchownCb);
export const link = promised<typeof fsp.link>(linkCb);
export const lstat = settled(lstatSync) as unknown as typeof fsp.lstat;
export const lutimes = promised<typeof fsp.lutimes>(lutimesCb);
export const mkdir = promised<typeof fsp.mkdir>(mkdirCb);
export const readdir = settled(readdirSync) as unknown as typeof fsp.readdir;
export const readFile = settled(readNow) as unknown as typeof fsp.readFile;
export const readlink = settled(readlinkSync) as unknown as typeof fsp.readlink;
export const rename = promised<typeof fsp.rename>(renameCb);
export const rm = promised<typeof fsp.rm>(rmCb);
export const stat = settled(statSync) as unknown as typeof fsp.stat;
export const statfs = promised<typeof fsp.statfs>(statfsCb);
export const symlink = promised<typeof fsp.symlink>(symlinkCb);
export const utimes = promised<typeof fsp.utimes>(utimesCb);

/**
 * node:fs/promises' open. The bundle loads that module on the first read of one of its names
 * (scripts/build.mjs LAZY_BUILTINS): here, the first time a file is opened as a FileHandle.
 */
export const open: typeof fsp.open = (...args) => openHandle(...args);
