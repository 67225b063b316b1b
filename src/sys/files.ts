// The promise-returning file calls mfd makes, from node:fs's callback functions. node:fs/promises
// costs every start 1.5-2 ms to load (it brings FileHandle, fs/dir, watchers and readline with it)
// while node:fs is loaded with Node itself; so only open(), whose FileHandle nothing else gives,
// loads it, on first use. Each function is node:fs/promises' own, behaviour and types: promisify
// of the callback form, typed as the promise form (test/sys/files.test.ts checks they answer alike).
import { chmod as chmodCb, cp as cpCb, lchown as lchownCb, lstat as lstatCb, mkdir as mkdirCb, readdir as readdirCb, readFile as readFileCb, readlink as readlinkCb, rename as renameCb, rm as rmCb, stat as statCb, statfs as statfsCb, symlink as symlinkCb, utimes as utimesCb } from 'node:fs';
import type * as fsp from 'node:fs/promises';
import { open as openHandle } from 'node:fs/promises';
import { promisify } from 'node:util';

export const chmod: typeof fsp.chmod = promisify(chmodCb);
export const cp: typeof fsp.cp = promisify(cpCb);
export const lchown: typeof fsp.lchown = promisify(lchownCb);
export const lstat = promisify(lstatCb) as typeof fsp.lstat;
export const mkdir = promisify(mkdirCb) as typeof fsp.mkdir;
export const readdir = promisify(readdirCb) as typeof fsp.readdir;
export const readFile = promisify(readFileCb) as typeof fsp.readFile;
export const readlink = promisify(readlinkCb) as typeof fsp.readlink;
export const rename: typeof fsp.rename = promisify(renameCb);
export const rm: typeof fsp.rm = promisify(rmCb);
export const stat = promisify(statCb) as typeof fsp.stat;
export const statfs = promisify(statfsCb) as typeof fsp.statfs;
export const symlink: typeof fsp.symlink = promisify(symlinkCb);
export const utimes: typeof fsp.utimes = promisify(utimesCb);

/**
 * node:fs/promises' open. The bundle loads that module on the first read of one of its names
 * (scripts/build.mjs LAZY_BUILTINS): here, the first time a file is opened as a FileHandle.
 */
export const open: typeof fsp.open = (...args) => openHandle(...args);
