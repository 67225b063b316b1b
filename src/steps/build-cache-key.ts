// The cache key of one [[build.cache]] entry: its command's argv, the content of its inputs, its
// outputs, Node's version and platform, and the named environment values, hashed to one sha256.
// Nothing is read through a symbolic link: a link is keyed by its target text, not followed.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from '../sys/files.ts';
import { join } from 'node:path';
import type { BuildCacheEntry } from '../config/build.ts';

export interface KeyInput {
  dir: string;
  argv: readonly string[];
  entry: BuildCacheEntry;
  env: Readonly<Record<string, string | undefined>>;
}

export async function cacheKey(input: KeyInput): Promise<string> {
  const { dir, argv, entry, env } = input;
  const inputs: [string, string][] = [];
  for (const path of entry.inputs) inputs.push([path, await describePath(dir, path)]);
  const doc = {
    v: 1,
    argv,
    inputs,
    outputs: entry.outputs,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    // Values enter only the hash: a record names the key, never a value (which may be a secret).
    env: entry.env.map((name) => [name, env[name] ?? null]),
  };
  return createHash('sha256').update(JSON.stringify(doc)).digest('hex');
}

/** What `rel` under `dir` is, as a short text: "absent", "link:<target>", "file:<sha256>", "dir:<sha256>". */
async function describePath(dir: string, rel: string): Promise<string> {
  const parts = rel.split('/');
  let at = dir;
  for (const [i, part] of parts.entries()) {
    at = join(at, part);
    const st = await lstatOrUndefined(at);
    if (!st) return 'absent';
    if (i < parts.length - 1 && !st.isDirectory()) return st.isSymbolicLink() ? 'under-a-link' : 'under-a-file';
  }
  return describeEntry(at);
}

async function describeEntry(path: string): Promise<string> {
  const st = await lstatOrUndefined(path);
  if (!st) return 'absent';
  if (st.isSymbolicLink()) return `link:${await readlink(path)}`;
  if (st.isFile()) return `file:${await hashFile(path)}`;
  if (st.isDirectory()) {
    const hash = createHash('sha256');
    for (const name of (await readdir(path)).sort()) hash.update(`${name}\0${await describeEntry(join(path, name))}\0`);
    return `dir:${hash.digest('hex')}`;
  }
  return 'other';
}

async function hashFile(path: string): Promise<string> {
  // O_NOFOLLOW: a file swapped for a link since the lstat is refused, not read through.
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
