import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MfdError, TreeInvalidError } from '../../src/errors/index.ts';
import { checkoutCommit, fetchCommit, MAX_PACKS } from '../../src/git/git.ts';
import type { TreeRule } from '../../src/git/treecheck.ts';
import { startGitServer } from '../helpers/git-server.ts';
import { createRepo, tmpRoot } from '../helpers/repo.ts';
import { plumbing, type Plumbing, type RawEntry } from '../helpers/tree.ts';

interface Case {
  what: string;
  /** The entries of `lib/`, beside which the root tree holds a good file. */
  lib: (o: { payload: string; link: string; repo: string; nulLink: string; longLink: string; emptyLink: string }) => RawEntry[];
  rule: TreeRule;
  path: string;
  /** upload-pack itself cannot walk the tree: the objects are planted in the cache instead. */
  unservable?: boolean;
}

const DOT_GITS = ['.git', '.GIT', '.Git', 'git~1', 'GIT~1', '.git.', '.git ', '.g\u200cit'];
const CASES: Case[] = [
  { what: 'a symlink to a file outside and a file of the same name', lib: (o) => [['120000', 'a', o.link], ['100755', 'a', o.payload]], rule: 'duplicateEntries', path: 'lib/a' },
  { what: 'a file and a directory of the same name', lib: (o) => [['100644', 'a', o.payload], ['100644', 'a-b', o.payload], ['40000', 'a', o.repo]], rule: 'duplicateEntries', path: 'lib/a' },
  { what: 'a directory named "."', lib: (o) => [['40000', '.', o.repo]], rule: 'hasDot', path: 'lib/.' },
  { what: 'a directory named ".."', lib: (o) => [['40000', '..', o.repo]], rule: 'hasDotdot', path: 'lib/..' },
  ...DOT_GITS.map((name): Case => ({ what: `a directory named ${JSON.stringify(name)}`, lib: (o) => [['40000', name, o.repo]], rule: 'hasDotgit', path: `lib/${name}` })),
  { what: 'a name holding "/"', lib: (o) => [['100644', '../../sentinel/canary', o.payload]], rule: 'fullPathname', path: 'lib/../../sentinel/canary' },
  { what: 'mode 170000', lib: (o) => [['170000', 'a', o.payload]], rule: 'badFilemode', path: 'lib/a' },
  { what: 'mode 644', lib: (o) => [['644', 'a', o.payload]], rule: 'badFilemode', path: 'lib/a' },
  { what: 'an empty name', lib: (o) => [['100644', '', o.payload]], rule: 'emptyName', path: 'lib', unservable: true },
  { what: 'a NUL in a name', lib: (o) => [['100644', 'a\0b', o.payload]], rule: 'badTree', path: 'lib', unservable: true },
  { what: 'a mode that is not octal', lib: (o) => [['10064x', 'a', o.payload]], rule: 'badFilemode', path: 'lib/a', unservable: true },
  // Link targets no file system can store: refused before anything is written, never an internal error.
  { what: 'a symlink whose target holds a NUL', lib: (o) => [['100644', 'a', o.payload], ['120000', 'b', o.nulLink]], rule: 'badSymlinkTarget', path: 'lib/b' },
  { what: 'a symlink with an empty target', lib: (o) => [['120000', 'a', o.emptyLink]], rule: 'badSymlinkTarget', path: 'lib/a' },
  { what: 'a symlink whose target is longer than a path', lib: (o) => [['120000', 'a', o.longLink], ['100644', 'b', o.payload]], rule: 'symlinkTargetLength', path: 'lib/a' },
];

/** Writes case `c` with plumbing: ok.txt and lib/ at the root, lib/ crafted. Same objects, same ids, in any repository. */
async function craft(p: Plumbing, c: Case, canary: string): Promise<string> {
  const payload = await p.blob('pwned\n');
  // What would pass for a repository, if a .git directory were ever written.
  const repo = await p.tree([['100644', 'HEAD', await p.blob('ref: refs/heads/main\n')], ['100644', 'config', payload]]);
  const links = { nulLink: await p.blob(`${canary}\0x`), longLink: await p.blob('a/'.repeat(2500)), emptyLink: await p.blob('') };
  const lib = await p.tree(c.lib({ payload, link: await p.blob(canary), repo, ...links }));
  return p.commit(await p.tree([['40000', 'lib', lib], ['100644', 'ok.txt', await p.blob('ok\n')]]));
}

async function snapshot(dir: string): Promise<string> {
  const names = (await readdir(dir, { recursive: true })).sort();
  const parts = await Promise.all(names.map(async (n) => `${n} ${(await stat(join(dir, n))).mode} ${await readFile(join(dir, n), 'utf8').catch(() => '<dir>')}`));
  return parts.join('\n');
}

describe('checkout of crafted trees from the real git server', () => {
  test('every tree git fsck refuses is refused with its sha, path and rule; nothing is written anywhere', async (t) => {
    const root = await tmpRoot(t);
    const repo = await createRepo(join(root, 'srv'), 'app.git');
    await repo.commit({ 'ok.txt': 'ok\n' }, 'good');
    await repo.push();
    const server = await startGitServer({ root: join(root, 'srv') });
    t.after(() => server.close());
    const remote = { url: server.url('app.git'), auth: { kind: 'none' as const } };
    const gitdir = join(root, 'app', '.mfd', 'repo.git');
    const sentinel = join(root, 'sentinel');
    await mkdir(sentinel);
    await writeFile(join(sentinel, 'canary'), 'precious\n', { mode: 0o644 });
    const before = await snapshot(sentinel);

    for (const [i, c] of CASES.entries()) {
      const sha = await craft(plumbing(repo.bare), c, join(sentinel, 'canary'));
      await plumbing(repo.bare).setRef(`refs/heads/case-${i}`, sha);
      if (c.unservable) {
        const refused = await fetchCommit({ remote, gitdir, sha }).catch((e: unknown) => e);
        assert.ok(refused instanceof MfdError && refused.exitCode === 4, `${c.what}: the fetch fails as a git error: ${String(refused)}`);
        assert.equal(await craft(plumbing(gitdir), c, join(sentinel, 'canary')), sha);
      } else {
        assert.deepEqual(await fetchCommit({ remote, gitdir, sha }), { fetched: true, repaired: 0 }, c.what);
      }
      const dir = join(root, 'app', `deployment-${i}`);
      await mkdir(dir);
      const error = await checkoutCommit({ gitdir, sha, dir }).catch((e: unknown) => e);
      assert.ok(error instanceof TreeInvalidError, `${c.what}: ${String(error)}`);
      assert.deepEqual([error.code, error.exitCode, error.sha, error.path, error.rule], ['TREE_INVALID', 4, sha, c.path, c.rule], c.what);
      assert.equal(error.message.split('\n').length, 1, c.what);
      for (const part of [sha, JSON.stringify(c.path), c.rule]) assert.ok(error.message.includes(part), `${c.what}: ${error.message} names ${part}`);
      assert.match(error.hint ?? '', /git fsck.*deploy another ref/);
      assert.deepEqual(await readdir(dir), [], `${c.what}: nothing written`);
    }
    assert.equal(await snapshot(sentinel), before, 'nothing outside the deployments changed');
  });

  test('modes 100664 and 100700 of old repositories check out as 100644 and 100755', async (t) => {
    const root = await tmpRoot(t);
    const repo = await createRepo(join(root, 'srv'), 'app.git');
    const server = await startGitServer({ root: join(root, 'srv') });
    t.after(() => server.close());
    const p = plumbing(repo.bare);
    const b = await p.blob('#!/bin/sh\n');
    const sha = await p.commit(await p.tree([['100664', 'shared.txt', b], ['100700', 'tool', b]]));
    await p.setRef('refs/heads/main', sha);
    const gitdir = join(root, 'cache');
    await fetchCommit({ remote: { url: server.url('app.git'), auth: { kind: 'none' } }, gitdir, sha });
    const dir = join(root, 'out');
    await mkdir(dir);
    assert.equal((await checkoutCommit({ gitdir, sha, dir })).files, 2);
    assert.equal((await stat(join(dir, 'shared.txt'))).mode & 0o111, 0);
    assert.equal((await stat(join(dir, 'tool'))).mode & 0o100, 0o100);
  });

  test('the cache is compacted past a commit with mode 100664, and waits out a hostile last commit', async (t) => {
    const root = await tmpRoot(t);
    const repo = await createRepo(join(root, 'srv'), 'app.git');
    const server = await startGitServer({ root: join(root, 'srv') });
    t.after(() => server.close());
    const remote = { url: server.url('app.git'), auth: { kind: 'none' as const } };
    const gitdir = join(root, 'cache');
    const p = plumbing(repo.bare);
    const shared = await p.blob('shared\n');
    let parent: string | undefined;
    const next = async (i: number, extra: RawEntry[] = []) => {
      const tree = await p.tree([...extra, ['100644', 'counter', await p.blob(`${i}\n`)], ['100664', 'shared.txt', shared]]);
      parent = await p.commit(tree, parent);
      await p.setRef('refs/heads/main', parent);
      await fetchCommit({ remote, gitdir, sha: parent });
      return parent;
    };
    const packs = async () => (await readdir(join(gitdir, 'objects', 'pack'))).filter((n) => n.endsWith('.pack')).length;
    for (let i = 0; i < MAX_PACKS; i++) await next(i);
    assert.equal(await packs(), MAX_PACKS);
    // One more pack would compact; a tree git refuses is not copied, nor does it fail the fetch.
    const link = await p.blob('/etc/passwd');
    const hostile = await next(MAX_PACKS, [['120000', 'a', link], ['100644', 'a', shared]]);
    assert.equal(await packs(), MAX_PACKS + 1);
    const refused = join(root, 'refused');
    await mkdir(refused);
    await assert.rejects(checkoutCommit({ gitdir, sha: hostile, dir: refused }), TreeInvalidError);
    // The next good commit compacts the cache, 100664 and all.
    const good = await next(MAX_PACKS + 1);
    assert.equal(await packs(), 1);
    const dir = join(root, 'good');
    await mkdir(dir);
    await checkoutCommit({ gitdir, sha: good, dir });
    assert.equal(await readFile(join(dir, 'shared.txt'), 'utf8'), 'shared\n');
  });
});
