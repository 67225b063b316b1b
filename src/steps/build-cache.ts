// Reusing a build command's outputs from a kept deployment whose record holds the same cache key
// (build-cache-key.ts): copied copy-on-write where the file system can, never hard-linked, so
// nothing a build does can change a rollback target. Any doubt about a source means running the command.
import { readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { lstat, mkdir, rm } from '../sys/files.ts';
import { dirname, join, relative } from 'node:path';
import type { BuildCacheEntry } from '../config/build.ts';
import { copyTree, type OnSpawn } from './build-cache-copy.ts';
import { cacheKey } from './build-cache-key.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** A kept good deployment and the keys its record says it produced. */
export interface CacheSource {
  name: string;
  dir: string;
  keys: readonly string[];
}

export interface Reuse {
  /** The command's index in build.commands. */
  command: number;
  from: string;
  outputs: readonly string[];
}

export interface BuildCache {
  /**
   * Before command `index` runs: copies its outputs from a source with its key, or says to run it.
   * `onSpawn` is told of each copying process group, as of a build command's.
   */
  tryReuse(index: number, argv: readonly string[], onSpawn?: OnSpawn): Promise<Reuse | undefined>;
  /** Command `index` ran and succeeded: its outputs are now this deployment's, under the key taken before it ran. */
  ran(index: number): void;
  /** The keys this deployment produced, for its record. */
  readonly keys: readonly string[];
}

export interface BuildCacheOptions {
  dir: string;
  entries: readonly BuildCacheEntry[];
  /** Newest first: the first that holds a key and can be copied from is used. */
  sources: readonly CacheSource[];
  env: Readonly<Record<string, string | undefined>>;
  onWarning: (message: string, hint: string) => void;
}

export function buildCache(options: BuildCacheOptions): BuildCache {
  const keys: string[] = [];
  const pending = new Map<number, string>();
  const describe = (argv: readonly string[]) => argv.join(' ');
  return {
    keys,
    async tryReuse(index, argv, onSpawn) {
      const entry = options.entries.find((e) => e.command === index);
      if (!entry) return undefined;
      let key: string;
      try {
        key = await cacheKey({ dir: options.dir, argv, entry, env: options.env });
      } catch (error) {
        options.onWarning(`cannot compute the cache key of ${describe(argv)}: ${reason(error)}`, 'the command runs, and its outputs are not offered for reuse');
        return undefined;
      }
      pending.set(index, key);
      const failures: string[] = [];
      for (const source of options.sources.filter((s) => s.keys.includes(key))) {
        const failure = await copyOutputs(source.dir, options.dir, entry.outputs, options.env, onSpawn);
        if (failure === undefined) {
          keys.push(key);
          pending.delete(index);
          return { command: index, from: source.name, outputs: entry.outputs };
        }
        failures.push(`${source.name}: ${failure}`);
      }
      if (failures.length > 0) {
        options.onWarning(`could not reuse ${entry.outputs.join(', ')} for ${describe(argv)} (${failures[0]})`, 'the command runs instead');
      }
      return undefined;
    },
    ran(index) {
      const key = pending.get(index);
      if (key !== undefined) keys.push(key);
      pending.delete(index);
    },
  };
}

/** Copies every output from `from` to `to`; returns why not (with nothing left half-copied), or undefined. */
async function copyOutputs(from: string, to: string, outputs: readonly string[], env: Env, onSpawn?: OnSpawn): Promise<string | undefined> {
  const created: string[] = [];
  try {
    for (const out of outputs) {
      const source = await inspect(from, out);
      if (source !== 'dir' && source !== 'file') return `${out} is ${source} there`;
      const target = await inspect(to, out);
      if (target !== 'absent') return `${out} is ${target} in the new deployment`;
      const tied = source === 'dir' ? linkInto(join(from, out), from) : undefined;
      if (tied) return `${out} holds ${tied.path} -> ${tied.target}, a link into that deployment itself: a copy would break once it is pruned`;
    }
    for (const out of outputs) {
      const dest = join(to, out);
      await mkdir(dirname(dest), { recursive: true });
      created.push(dest);
      await copyTree(join(from, out), dest, env, onSpawn);
    }
    return undefined;
  } catch (error) {
    // Only what this call created, inside the new deployment; the command then builds it afresh.
    for (const dest of created) await rm(dest, { recursive: true, force: true }).catch(() => undefined); // a leftover makes the command's own run fail visibly
    return `copy failed: ${reason(error)}`;
  }
}

/**
 * The first link under `dir` whose target is an absolute path inside `deployment` (a build that
 * linked to $MFD_DEPLOYMENT_DIR/...), or inside its real path (one that linked from its
 * working directory, where the app root is reached through a link): copied, it would still point
 * into the source deployment. Relative links, as npm and pnpm make, copy as they are and stay inside the copy.
 */
function linkInto(dir: string, deployment: string): { path: string; target: string } | undefined {
  const real = realpathSync(deployment);
  const within = (target: string) => [deployment, real].some((d) => target === d || target.startsWith(`${d}/`));
  // Walked by hand (a link to a directory is looked at, never descended into), and synchronously:
  // a node_modules is a thousand directories, and one promise each tripled the walk's time.
  for (const stack = [dir]; stack.length > 0; ) {
    const at = stack.pop()!;
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else if (entry.isSymbolicLink()) {
        const target = readlinkSync(path);
        if (within(target)) return { path: relative(deployment, path), target };
      }
    }
  }
  return undefined;
}

/** What `rel` is under `root`, never looking through a link: a path under a link is not inside `root`. */
async function inspect(root: string, rel: string): Promise<'dir' | 'file' | 'absent' | 'a symbolic link' | 'under a symbolic link' | 'not a file or directory'> {
  const parts = rel.split('/');
  let at = root;
  for (const [i, part] of parts.entries()) {
    at = join(at, part);
    let st;
    try {
      st = await lstat(at);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return 'absent';
      throw error;
    }
    const last = i === parts.length - 1;
    if (st.isSymbolicLink()) return last ? 'a symbolic link' : 'under a symbolic link';
    if (!last && !st.isDirectory()) return 'not a file or directory';
    if (last) return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'not a file or directory';
  }
  return 'absent';
}

function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e?.code ?? (e instanceof Error ? e.message.split('\n')[0]! : String(error));
}
