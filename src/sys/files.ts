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
import { chmod as chmodCb, closeSync, constants, cp as cpCb, fstatSync, lchown as lchownCb, lstatSync, lutimes as lutimesCb, mkdir as mkdirCb, openSync, readdirSync, readFileSync, readlinkSync, rename as renameCb, rm as rmCb, statSync, statfs as statfsCb, symlink as symlinkCb, utimes as utimesCb } from 'node:fs';
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

export const chmod: typeof fsp.chmod = promisify(chmodCb);
export const cp: typeof fsp.cp = promisify(cpCb);
export const lchown: typeof fsp.lchown = promisify(lchownCb);
export const lstat = settled(lstatSync) as unknown as typeof fsp.lstat;
export const lutimes: typeof fsp.lutimes = promisify(lutimesCb);
export const mkdir = promisify(mkdirCb) as typeof fsp.mkdir;
export const readdir = settled(readdirSync) as unknown as typeof fsp.readdir;
export const readFile = settled(readNow) as unknown as typeof fsp.readFile;
export const readlink = settled(readlinkSync) as unknown as typeof fsp.readlink;
export const rename: typeof fsp.rename = promisify(renameCb);
export const rm: typeof fsp.rm = promisify(rmCb);
export const stat = settled(statSync) as unknown as typeof fsp.stat;
export const statfs = promisify(statfsCb) as typeof fsp.statfs;
export const symlink: typeof fsp.symlink = promisify(symlinkCb);
export const utimes: typeof fsp.utimes = promisify(utimesCb);

/**
 * node:fs/promises' open. The bundle loads that module on the first read of one of its names
 * (scripts/build.mjs LAZY_BUILTINS): here, the first time a file is opened as a FileHandle.
 */
export const open: typeof fsp.open = (...args) => openHandle(...args);
