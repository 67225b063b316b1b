import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { checkoutCommit, fetchCommit, MAX_PACKS, newCache } from '../../src/git/git.ts';
import { startGitServer } from '../helpers/git-server.ts';
import { createRepo, tmpRoot } from '../helpers/repo.ts';

// Random trees, checked out commit after commit as deploys do (each from the last, reusing its
// files), each compared with `git archive` of the same commit. Reproduce a failure with its seed:
// MFD_TEST_SEED=<seed> node --import tsx --test test/checkout-property.test.ts
const SEED = Number(process.env.MFD_TEST_SEED ?? 20261201);
/** Past MAX_PACKS fetches, so the cache is compacted on the way and old commits are fetched again. */
const COMMITS = MAX_PACKS + 8;

/** mulberry32: small, seedable, good enough to pick paths. */
function prng(seed: number): { int(n: number): number; pick<T>(items: readonly T[]): T; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { int, pick: (items) => items[int(items.length)]!, chance: (p) => next() < p };
}

type Node = { kind: 'file' | 'exec'; content: string } | { kind: 'link'; target: string };
/** A commit's tree as paths of files and links; directories are what their paths imply. */
type Model = Map<string, Node>;

const NAMES = ['a', 'b', 'c.txt', 'sp ace', '.hidden', 'ü', '-x'];

function mutate(model: Model, rnd: ReturnType<typeof prng>, outside: string): void {
  const paths = [...model.keys()];
  const dirs = [...new Set(paths.flatMap((p) => p.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))))];
  const randomPath = () => Array.from({ length: 1 + rnd.int(3) }, () => rnd.pick(NAMES)).join('/');
  const node = (): Node => {
    const roll = rnd.int(10);
    if (roll < 5) return { kind: 'file', content: `${rnd.int(1e6)}\n`.repeat(1 + rnd.int(3)) };
    if (roll < 7) return { kind: 'exec', content: `#!/bin/sh\necho ${rnd.int(1e6)}\n` };
    const targets = [outside, join(dirname(outside), 'missing'), '../../../sentinel/canary', 'a', 'no/such/file', '..', '/'];
    return { kind: 'link', target: rnd.pick(targets) };
  };
  /** Puts `n` at `path`: whatever file sits on its way becomes a directory, a directory there goes. */
  const put = (path: string, n: Node) => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) model.delete(parts.slice(0, i).join('/'));
    for (const p of [...model.keys()]) if (p.startsWith(`${path}/`)) model.delete(p);
    model.set(path, n);
  };
  const edits = 1 + rnd.int(4);
  for (let i = 0; i < edits; i++) {
    const roll = rnd.int(10);
    if (roll < 3 || paths.length === 0) put(randomPath(), node()); // add
    else if (roll < 5) put(rnd.pick(paths), node()); // new content, or file → link / exec at one path
    else if (roll < 6) model.delete(rnd.pick(paths));
    else if (roll < 8) put(`${rnd.pick(paths)}/${rnd.pick(NAMES)}`, node()); // file → directory
    else if (dirs.length > 0) put(rnd.pick(dirs), node()); // directory → file or link
  }
  if (model.size === 0) put('a', node());
}

async function writeWorkTree(work: string, model: Model): Promise<void> {
  for (const name of await readdir(work)) if (name !== '.git') await rm(join(work, name), { recursive: true, force: true });
  for (const [path, n] of model) {
    const file = join(work, path);
    await mkdir(dirname(file), { recursive: true });
    if (n.kind === 'link') await symlink(n.target, file);
    else {
      await writeFile(file, n.content);
      await chmod(file, n.kind === 'exec' ? 0o755 : 0o644);
    }
  }
}

/** Every path under `dir`, never following a link: type, exec bit, bytes' hash or link target. */
async function describeTree(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const info = await lstat(join(dir, path));
    if (info.isSymbolicLink()) out.push(`${path} -> ${await readlink(join(dir, path))}`);
    else if (info.isDirectory()) out.push(`${path}/`, ...(await describeTree(dir, path)));
    else if (info.isFile()) {
      const hash = createHash('sha1').update(await readFile(join(dir, path))).digest('hex');
      out.push(`${path} ${info.mode & 0o100 ? 'exec' : 'file'} ${hash}`);
    } else out.push(`${path} ?${info.mode.toString(8)}`);
  }
  return out;
}

function archive(bare: string, sha: string, into: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const git = execFile('git', ['archive', '--format=tar', sha], { cwd: bare, encoding: 'buffer', maxBuffer: 64 << 20 }, (error, tarball) => {
      if (error) return reject(error);
      const tar = execFile('tar', ['-x', '-C', into], (e) => (e ? reject(e) : resolve()));
      tar.stdin!.end(tarball);
    });
    git.stdin?.end();
  });
}

/** What a build or the app might do to the deployment a later checkout reuses files from. */
async function tamper(dir: string, model: Model, rnd: ReturnType<typeof prng>, sentinel: string): Promise<void> {
  const files = [...model].filter(([, n]) => n.kind !== 'link').map(([p]) => p);
  if (files.length === 0) return;
  const victim = join(dir, rnd.pick(files));
  const roll = rnd.int(3);
  if (roll === 0) await writeFile(victim, 'rewritten by the build\n');
  else if (roll === 1) {
    await rm(victim);
    await symlink(join(sentinel, 'canary'), victim);
  } else if (victim.includes('/', dir.length + 1)) {
    // A directory above a file becomes a link out of the deployment.
    const parent = dirname(victim);
    await rm(parent, { recursive: true });
    await symlink(sentinel, parent);
  }
}

describe('checkout (property)', () => {
  test(`random trees check out exactly as git archive gives them, writing nothing outside (seed ${SEED})`, { timeout: 240_000 }, async (t) => {
    const rnd = prng(SEED);
    const root = await tmpRoot(t);
    const repo = await createRepo(join(root, 'srv'), 'app.git');
    const server = await startGitServer({ root: join(root, 'srv') });
    t.after(() => server.close());
    const remote = { url: server.url('app.git'), auth: { kind: 'none' as const } };
    const app = join(root, 'app');
    const gitdir = join(app, '.mfd', 'repo.git');
    const sentinel = join(root, 'sentinel');
    await mkdir(sentinel);
    for (const name of NAMES) await writeFile(join(sentinel, name), `canary ${name}\n`);
    await writeFile(join(sentinel, 'canary'), 'precious\n');
    const before = await describeTree(sentinel);

    const model: Model = new Map();
    const shas: string[] = [];
    let previous: string | undefined;
    let reused = 0;
    const check = async (sha: string, label: string, reuseFrom?: string) => {
      await fetchCommit({ remote, gitdir, sha, cache: newCache() });
      const dir = join(app, `mfd_${shas.length}_${label}`);
      const expected = join(root, 'archive', label);
      await Promise.all([mkdir(dir), mkdir(expected, { recursive: true })]);
      const stats = await checkoutCommit({ gitdir, sha, dir, cache: newCache(), ...(reuseFrom ? { reuseFrom } : {}) });
      reused += stats.reused;
      await archive(repo.bare, sha, expected);
      assert.deepEqual(await describeTree(dir), await describeTree(expected), `seed ${SEED}, ${label}, commit ${sha}`);
      return dir;
    };
    for (let i = 0; i < COMMITS; i++) {
      // The model still describes `previous` here.
      if (previous && rnd.chance(0.3)) await tamper(previous, model, rnd, sentinel);
      mutate(model, rnd, join(sentinel, 'canary'));
      await writeWorkTree(repo.work, model);
      shas.push(await repo.commit({}, `random ${i}`));
      await repo.push();
      previous = await check(shas.at(-1)!, `c${i}`, previous);
    }
    // The cache was compacted on the way; going back fetches the old commits again.
    const packs = (await readdir(join(gitdir, 'objects', 'pack'))).filter((n) => n.endsWith('.pack'));
    assert.ok(packs.length < COMMITS, `the cache was compacted (${packs.length} packs for ${COMMITS} fetches)`);
    for (const [i, sha] of [shas[0]!, shas[3]!, shas[COMMITS - 5]!].entries()) previous = await check(sha, `back${i}`, previous);

    t.diagnostic(`${COMMITS} commits, last tree ${model.size} paths, ${reused} files reused, ${packs.length} packs`);
    assert.ok(reused > 0, 'some files were taken from the previous checkout');
    assert.deepEqual(await describeTree(sentinel), before, `seed ${SEED}: nothing outside the deployments changed`);
  });
});
