// Raw git tree objects built byte by byte, so tests can make trees git itself would never write,
// and an in-memory object store serving them as the cache would.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { ObjectReader } from '../../src/git/checkout.ts';
import { runGit } from './repo.ts';

/** One entry: mode as stored, name (a Buffer for bytes that are not UTF-8), 40-hex object id. */
export type RawEntry = [mode: string, name: string | Buffer, oid: string];

/** A tree object's content, entries in the order given (git's order is the caller's business). */
export function rawTree(entries: readonly RawEntry[]): Buffer {
  return Buffer.concat(entries.map(([mode, name, oid]) => Buffer.concat([Buffer.from(`${mode} `), Buffer.from(name), Buffer.from([0]), Buffer.from(oid, 'hex')])));
}

export function objectId(type: string, content: Uint8Array | string): string {
  const bytes = Buffer.from(content);
  return createHash('sha1').update(`${type} ${bytes.length}\0`).update(bytes).digest('hex');
}

export interface MemoryStore extends ObjectReader {
  /** Stores an object, returning its id. */
  put(type: 'blob' | 'tree', content: Uint8Array | string): string;
  /** Object ids read, in order. */
  readonly reads: string[];
}

export function memoryStore(): MemoryStore {
  const objects = new Map<string, { type: string; content: Uint8Array }>();
  const reads: string[] = [];
  return {
    reads,
    put(type, content) {
      const oid = objectId(type, content);
      objects.set(oid, { type, content: Buffer.from(content) });
      return oid;
    },
    async readObject(oid) {
      reads.push(oid);
      const object = objects.get(oid);
      if (!object) throw new Error(`no object ${oid}`);
      return object;
    },
  };
}

/** Git plumbing on a (bare) repository, writing whatever bytes it is given, as a hostile pusher could. */
export interface Plumbing {
  blob(content: string | Buffer): Promise<string>;
  /** A tree object of exactly these entries (or this content), unchecked (`hash-object --literally`). */
  tree(entries: readonly RawEntry[] | Buffer): Promise<string>;
  /** The raw content of tree `oid`. */
  readTree(oid: string): Promise<Buffer>;
  commit(tree: string, parent?: string): Promise<string>;
  setRef(ref: string, sha: string): Promise<void>;
}

export function plumbing(gitdir: string): Plumbing {
  const git = (args: string[], input?: string | Buffer) => runGit(args, { cwd: gitdir, ...(input === undefined ? {} : { input }) });
  return {
    blob: (content) => git(['hash-object', '-w', '--stdin'], content),
    tree: (entries) => git(['hash-object', '-w', '--literally', '-t', 'tree', '--stdin'], Buffer.isBuffer(entries) ? entries : rawTree(entries)),
    readTree: (oid) =>
      new Promise((resolve, reject) =>
        execFile('git', ['cat-file', 'tree', oid], { cwd: gitdir, encoding: 'buffer' }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
      ),
    commit: (tree, parent) => git(['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', 'crafted']),
    setRef: async (ref, sha) => {
      await git(['update-ref', ref, sha]);
    },
  };
}
