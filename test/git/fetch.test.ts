import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, readlink, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { GitAuthError, GitFetchError, RefNotFoundError } from '../../src/errors/index.ts';
import { checkoutCommit, fetchCommit, hasCommit, MAX_PACKS, redactUrl, resolveRef } from '../../src/git/git.ts';
import { gitFixture as fixture } from '../helpers/git-fixture.ts';
import { until } from '../helpers/hold.ts';
import { writePack } from '../helpers/pack.ts';
import { damagedPacks } from '../../src/git/packcheck.ts';
import { startGitServer } from '../helpers/git-server.ts';
import { createRepo, runGit, tmpRoot, type TestRepo } from '../helpers/repo.ts';

/** Everything under `dir` as path → content, `-> target` for symlinks, with `*` after executables. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (at: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      const key = relative(dir, path);
      if (entry.isDirectory()) await visit(path);
      else if (entry.isSymbolicLink()) out[key] = `-> ${await readlink(path)}`;
      else out[(await stat(path)).mode & 0o100 ? `${key}*` : key] = await readFile(path, 'utf8');
    }
  };
  await visit(dir);
  return out;
}

/** Incompressible but reproducible bytes. */
function noise(seed: string, bytes: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i * 32 < bytes; i++) parts.push(createHash('sha256').update(`${seed}:${i}`).digest());
  return Buffer.concat(parts).subarray(0, bytes);
}

/** Pushes `repo` (created under root/srv) and serves it; the cache goes to root/repo.git. */
async function serve(t: TestContext, root: string, repo: TestRepo) {
  await repo.push();
  const server = await startGitServer({ root: join(root, 'srv') });
  t.after(() => server.close());
  const remote = { url: server.url('app.git'), auth: { kind: 'none' } as const };
  const gitdir = join(root, 'repo.git');
  return { server, remote, gitdir, packDir: join(gitdir, 'objects', 'pack') };
}

describe('git: authentication and errors', () => {
  test('a token is sent as basic auth and works for resolve and fetch', async (t) => {
    const f = await fixture(t, { auth: { username: 'mfd', password: 'tok-123' }, remoteAuth: { kind: 'token', token: 'tok-123' } });
    assert.equal((await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: 'main' })).sha, f.c[3]);
    assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[3] }), { fetched: true, repaired: 0 });
  });

  test('a username and password work for resolve and fetch', async (t) => {
    const auth = { username: 'deploy', password: 'pa:ss@word' };
    const f = await fixture(t, { auth, remoteAuth: { kind: 'basic', ...auth } });
    assert.equal((await resolveRef({ remote: f.remote, gitdir: f.gitdir })).sha, f.c[3]);
    assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[1] }), { fetched: true, repaired: 0 });
  });

  test('a wrong token is a GitAuthError that does not retry and never shows the token', async (t) => {
    const f = await fixture(t, { auth: { username: 'mfd', password: 'right-token' } });
    const remote = { url: f.remote.url, auth: { kind: 'token', token: 'wrong-token-987' } as const };
    for (const attempt of [
      () => resolveRef({ remote, gitdir: f.gitdir, ref: 'main' }),
      () => fetchCommit({ remote, gitdir: f.gitdir, sha: f.c[3] }),
    ]) {
      f.server.resetCounters();
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(error instanceof GitAuthError);
        assert.equal(error.code, 'GIT_AUTH');
        assert.equal(error.exitCode, 4);
        assert.ok(error.message.includes(f.remote.url), error.message);
        assert.ok(!`${error.message} ${error.hint} ${String(error.cause)}`.includes('wrong-token-987'));
        return true;
      });
      assert.equal(f.server.requests.length, 2, 'one anonymous request, one with the token, no loop');
    }
  });

  test('no credentials against a server that wants them is a GitAuthError', async (t) => {
    const f = await fixture(t, { auth: { username: 'mfd', password: 'x' } });
    await assert.rejects(resolveRef({ remote: f.remote, gitdir: f.gitdir }), GitAuthError);
  });

  test('credentials in the URL are used, then kept out of messages and of the cache config', async (t) => {
    const f = await fixture(t, { auth: { username: 'alice', password: 's3cret' } });
    const remote = { url: f.remote.url.replace('http://', 'http://alice:s3cret@'), auth: { kind: 'none' } as const };
    assert.equal(redactUrl(remote.url), f.remote.url);
    assert.equal((await resolveRef({ remote, gitdir: f.gitdir, ref: 'main' })).sha, f.c[3]);
    await fetchCommit({ remote, gitdir: f.gitdir, sha: f.c[3] });
    const config = await readFile(join(f.gitdir, 'config'), 'utf8');
    assert.ok(config.includes(f.remote.url));
    assert.ok(!config.includes('s3cret') && !config.includes('alice'), config);
  });

  test('redactUrl removes userinfo and leaves other URLs alone', () => {
    assert.equal(redactUrl('https://u:p%40ss@example.com/a/b.git'), 'https://example.com/a/b.git');
    assert.equal(redactUrl('https://token@example.com/a.git'), 'https://example.com/a.git');
    assert.equal(redactUrl('https://example.com/a.git?x=y@z'), 'https://example.com/a.git?x=y@z');
  });

  test('a refused connection is a GitFetchError saying so', async (t) => {
    const root = await tmpRoot(t);
    const server = await startGitServer({ root });
    const url = server.url('app.git');
    await server.close();
    const remote = { url, auth: { kind: 'none' } as const };
    for (const attempt of [
      () => resolveRef({ remote, gitdir: join(root, 'repo.git'), ref: 'main' }),
      () => fetchCommit({ remote, gitdir: join(root, 'repo.git'), sha: 'ab'.repeat(20) }),
    ]) {
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(error instanceof GitFetchError);
        assert.match(error.message, /connection refused/);
        assert.ok(error.message.includes(url));
        return true;
      });
    }
  });

  test('a repository the server does not have is a GitFetchError with the HTTP status', async (t) => {
    const f = await fixture(t);
    const remote = { url: f.server.url('missing.git'), auth: { kind: 'none' } as const };
    await assert.rejects(resolveRef({ remote, gitdir: f.gitdir, ref: 'main' }), (error: unknown) => {
      assert.ok(error instanceof GitFetchError);
      assert.match(error.message, /missing\.git: HTTP 404/);
      return true;
    });
  });

  test('fetching a sha the server does not have is a RefNotFoundError', async (t) => {
    const f = await fixture(t);
    await assert.rejects(fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: 'ab'.repeat(20) }), RefNotFoundError);
  });
});

describe('git: fetchCommit and checkoutCommit', () => {
  // Bounded: a cache holding two thin packs once made iso-git chase delta bases in a circle forever.
  test('a later fetch transfers only what the cache lacks', { timeout: 60_000 }, async (t) => {
    const root = await tmpRoot(t);
    const repo = await createRepo(join(root, 'srv'), 'big.git');
    const data: Record<string, Buffer> = {};
    for (const name of ['a', 'b', 'c', 'd']) data[`data/${name}.bin`] = noise(name, 128 * 1024);
    const first = await repo.commit({ ...data, 'counter.txt': '0\n' }, 'data');
    let head = first;
    const bumps: string[] = [];
    // A small edit inside a big file travels as a delta against the blob the cache already has.
    const edited = Buffer.concat([Buffer.from('edited\n'), data['data/a.bin']!.subarray(7)]);
    for (let i = 1; i <= 10; i++) {
      const files = { 'counter.txt': `${i}\n`, [`notes/${i}.txt`]: `note ${i}\n`, ...(i === 5 ? { 'data/a.bin': edited } : {}) };
      head = await repo.commit(files, `bump ${i}`);
      bumps.push(head);
    }
    await repo.push();
    const server = await startGitServer({ root: join(root, 'srv') });
    t.after(() => server.close());
    const remote = { url: server.url('big.git'), auth: { kind: 'none' } as const };
    const gitdir = join(root, 'repo.git');

    assert.deepEqual(await fetchCommit({ remote, gitdir, sha: first }), { fetched: true, repaired: 0 });
    const firstBytes = server.bytesSent;
    server.resetCounters();
    assert.deepEqual(await fetchCommit({ remote, gitdir, sha: head }), { fetched: true, repaired: 0 });
    const laterBytes = server.bytesSent;
    t.diagnostic(`first fetch ${firstBytes} B, incremental fetch ${laterBytes} B, ratio ${(laterBytes / firstBytes).toFixed(4)}`);
    assert.ok(firstBytes > 4 * 128 * 1024, `first fetch sent only ${firstBytes} bytes`);
    assert.ok(laterBytes < firstBytes / 2, `incremental fetch sent ${laterBytes} of ${firstBytes} bytes`);
    // Going back (a rollback, an older tag) is as cheap: the "have" is a tree, not an ancestry.
    server.resetCounters();
    await fetchCommit({ remote, gitdir, sha: bumps[2]! });
    assert.ok(server.bytesSent < firstBytes / 2, `fetching an older commit sent ${server.bytesSent} of ${firstBytes} bytes`);

    const [newer, older] = [join(root, 'newer'), join(root, 'older')];
    await Promise.all([mkdir(newer), mkdir(older)]);
    await checkoutCommit({ gitdir, sha: head, dir: newer });
    await checkoutCommit({ gitdir, sha: bumps[2]!, dir: older });
    assert.deepEqual(await readFile(join(newer, 'data/a.bin')), edited);
    assert.deepEqual(await readFile(join(newer, 'data/c.bin')), data['data/c.bin']);
    assert.equal(await readFile(join(newer, 'notes/10.txt'), 'utf8'), 'note 10\n');
    assert.deepEqual(await readFile(join(older, 'data/a.bin')), data['data/a.bin']);
    // Native git refuses a thin pack: every pack left in the cache must be self-contained.
    const packDir = join(gitdir, 'objects', 'pack');
    for (const idx of (await readdir(packDir)).filter((n) => n.endsWith('.idx'))) {
      await runGit(['verify-pack', join(packDir, idx)], { cwd: root });
    }
  });

  test('a thin pack an older mfd left (killed before rewriting it) starts the cache over: no pack is read whole to rewrite it', { timeout: 60_000 }, async (t) => {
    const root = await tmpRoot(t);
    const repo = await createRepo(join(root, 'srv'), 'app.git');
    const text = (n: number) => Array.from({ length: 400 }, (_, i) => `line ${i} of version ${i === 200 ? n : 1}\n`).join('');
    const v1 = await repo.commit({ 'big.txt': text(1) }, 'v1');
    const v2 = await repo.commit({ 'big.txt': text(2) }, 'v2');
    const v3 = await repo.commit({ 'big.txt': text(3) }, 'v3');
    const { remote, gitdir, packDir } = await serve(t, root, repo);
    await fetchCommit({ remote, gitdir, sha: v1 });

    // What an older mfd's fetch killed between storing its thin pack and rewriting it left: the
    // marker listing the packs before it, and a pack it does not list (native git cannot write a
    // thin pack to disk, so this one is only unlisted).
    await writeFile(join(gitdir, 'mfd-thin-fetch.json'), JSON.stringify(await readdir(packDir)));
    const leftover = await runGit(['pack-objects', '--revs', join(packDir, 'pack')], { cwd: repo.bare, input: `${v2}\n^${v1}\n` });
    assert.ok((await readdir(packDir)).includes(`pack-${leftover}.pack`));

    // Counted as the one damaged pack, as any other a crash left; the old rewrite read every
    // object of it into memory, then the whole rewritten pack, and reported nothing.
    assert.deepEqual(await fetchCommit({ remote, gitdir, sha: v3 }), { fetched: true, repaired: 1 });
    const packs = await readdir(packDir);
    assert.ok(!packs.includes(`pack-${leftover}.pack`));
    assert.ok(!existsSync(join(gitdir, 'mfd-thin-fetch.json')));
    for (const idx of packs.filter((n) => n.endsWith('.idx'))) await runGit(['verify-pack', join(packDir, idx)], { cwd: root });
    assert.equal(await hasCommit(gitdir, v2), false, 'started over: only what the fetch of v3 brought');
    const dir = join(root, 'out');
    await mkdir(dir);
    await checkoutCommit({ gitdir, sha: v3, dir });
    assert.equal(await readFile(join(dir, 'big.txt'), 'utf8'), text(3));
  });

  test('whilePacking runs once, after the want list is sent and before the pack comes; not at all when nothing is fetched', async (t) => {
    let packing = 0;
    let heldOut = false;
    // The pack's answer waits until whilePacking has run (at most 30 s).
    const f = await fixture(t, {
      server: {
        beforeChunk: async (entry) => {
          if (entry.command !== 'fetch' || packing > 0) return;
          heldOut = await until(async () => packing > 0, 'whilePacking', 30_000).then(() => false, () => true);
        },
      },
    });
    assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[2], whilePacking: () => packing++ }), { fetched: true, repaired: 0 });
    assert.equal(heldOut, false, 'whilePacking did not run while the server held the pack');
    assert.equal(packing, 1);
    assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[2], whilePacking: () => packing++ }), { fetched: false, repaired: 0 });
    assert.equal(packing, 1, 'nothing fetched, nothing run');
  });

  test('past MAX_PACKS fetches the cache is compacted to the last commit and stays incremental', { timeout: 120_000 }, async (t) => {
    const root = await tmpRoot(t);
    const repo = await createRepo(join(root, 'srv'), 'app.git');
    // big.bin is larger than what compaction copies at a time (pack-read.ts COPY_PIECE): copied in pieces.
    const BIG = 2.5 * 1024 ** 2;
    const shas = [await repo.commit({ 'big.bin': noise('big', BIG), 'n.txt': '0\n', 'sub/keep.txt': 'keep\n' }, 'c0')];
    for (let i = 1; i <= MAX_PACKS + 2; i++) shas.push(await repo.commit({ 'n.txt': `${i}\n`, [`notes/${i}.txt`]: `note ${i}\n` }, `c${i}`));
    await repo.tag('v0', shas[0]!);
    const { server, remote, gitdir, packDir } = await serve(t, root, repo);
    const packs = async () => (await readdir(packDir)).filter((n) => n.endsWith('.pack')).length;

    await fetchCommit({ remote, gitdir, sha: shas[0]! });
    const firstBytes = server.bytesSent;
    // A short-sha search fetches branches and tags: refs that compaction must not leave dangling.
    await resolveRef({ remote, gitdir, ref: shas[0]!.slice(0, 8) });
    const before = await packs();
    // What a compaction or fetch killed mid-write leaves: removed by the compaction.
    await writeFile(join(packDir, 'tmp_pack_killed'), 'PACK half');
    let i = 1;
    for (; (await packs()) > 1 || i === 1; i++) {
      await fetchCommit({ remote, gitdir, sha: shas[i]! });
      assert.ok(i <= MAX_PACKS + 1, `still ${await packs()} packs after ${i + 1} fetches`);
    }
    const compactedAt = shas[i - 1]!;
    t.diagnostic(`${before} packs after the first fetch and a search; compacted after fetching c${i - 1}`);
    assert.equal(await packs(), 1);
    assert.deepEqual((await readdir(packDir)).filter((n) => !/^pack-[0-9a-f]{40}\.(pack|idx)$/.test(n)), [], 'nothing else left');
    assert.equal((await readFile(join(gitdir, 'shallow'), 'utf8')), `${compactedAt}\n`);
    // Exactly the commit and its tree's objects, as git lists them.
    const listed = (await runGit(['rev-list', '--objects', '--no-walk', compactedAt], { cwd: repo.bare })).split('\n').filter(Boolean).length;
    const verified = await runGit(['verify-pack', '-v', join(packDir, (await readdir(packDir)).find((n) => n.endsWith('.idx'))!)], { cwd: root });
    assert.equal(verified.split('\n').filter((l) => /^[0-9a-f]{40} (commit|tree|blob)/.test(l)).length, listed);
    assert.equal(existsSync(join(gitdir, 'refs', 'tags')), false);
    await runGit(['verify-pack', join(packDir, (await readdir(packDir)).find((n) => n.endsWith('.idx'))!)], { cwd: root });
    // Native git sees a sound depth-1 clone.
    await runGit(['fsck', '--no-dangling', '--no-progress'], { cwd: gitdir });

    const dir = join(root, 'compacted');
    await mkdir(dir);
    await checkoutCommit({ gitdir, sha: compactedAt, dir });
    assert.equal(await readFile(join(dir, 'n.txt'), 'utf8'), `${i - 1}\n`);
    assert.deepEqual(await readFile(join(dir, 'big.bin')), noise('big', BIG));

    server.resetCounters();
    await fetchCommit({ remote, gitdir, sha: shas[i]! });
    assert.ok(server.bytesSent < firstBytes / 4, `the next fetch sent ${server.bytesSent} of ${firstBytes} bytes`);
    // A commit the compaction dropped is fetched again when it is wanted again.
    assert.equal(await hasCommit(gitdir, shas[1]!), false);
    await fetchCommit({ remote, gitdir, sha: shas[1]! });
    const old = join(root, 'old');
    await mkdir(old);
    await checkoutCommit({ gitdir, sha: shas[1]!, dir: old });
    assert.equal(await readFile(join(old, 'n.txt'), 'utf8'), '1\n');
  });

  test('a revision walk on a cache past MAX_PACKS keeps the history it deepened', { timeout: 60_000 }, async (t) => {
    const root = await tmpRoot(t);
    const repo = await createRepo(join(root, 'srv'), 'app.git');
    const shas: string[] = [];
    for (let i = 0; i < 5; i++) shas.push(await repo.commit({ 'n.txt': `${i}\n` }, `c${i}`));
    const { server, remote, gitdir, packDir } = await serve(t, root, repo);
    await fetchCommit({ remote, gitdir, sha: shas[4]! });
    // As many packs as a long-lived cache gathers (one object each, indexed by git itself).
    for (let n = 0; n <= MAX_PACKS; n++) {
      const { name, data } = writePack([{ type: 'blob', content: Buffer.from(`filler ${n}\n`) }]);
      await writeFile(join(packDir, name), data);
      await runGit(['index-pack', join(packDir, name)], { cwd: root });
    }
    server.resetCounters();
    assert.deepEqual(await resolveRef({ remote, gitdir, ref: 'main~3' }), { sha: shas[1], ref: 'main~3' });
    // One deepening fetch, and no compaction throwing its history away half-way through the walk.
    assert.equal(server.requests.filter((r) => r.command === 'fetch').length, 1);
    assert.ok((await readdir(packDir)).filter((n) => n.endsWith('.pack')).length > MAX_PACKS);
  });

  // What a kill -9 between creating a file and filling it, or a power cut before the disk had it,
  // leaves of a pack that isomorphic-git wrote without a temp file or fsync: each once broke every
  // later read of the cache (a TypeError inside iso-git, reported as "cannot reach" the remote).
  for (const [damage, harm] of [
    ['an empty index', async (idx: string) => writeFile(idx, '')],
    ['a truncated index', async (idx: string) => truncate(idx, (await stat(idx)).size - 7)],
    ['an index without its pack', async (idx: string) => rm(idx.replace(/\.idx$/, '.pack'))],
    ['a truncated pack', async (idx: string) => truncate(idx.replace(/\.idx$/, '.pack'), (await stat(idx.replace(/\.idx$/, '.pack'))).size - 100)],
    ['a pack whose tail never reached the disk', async (idx: string) => {
      const pack = idx.replace(/\.idx$/, '.pack');
      const bytes = await readFile(pack);
      bytes.fill(0, bytes.length - 4096 > 0 ? bytes.length - 4096 : 0);
      await writeFile(pack, bytes);
    }],
  ] as const) {
    test(`${damage} left in the cache is removed by the next fetch, which then works`, async (t) => {
      const f = await fixture(t);
      await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[1] });
      const packDir = join(f.gitdir, 'objects', 'pack');
      const [idx, ...others] = (await readdir(packDir)).filter((n) => n.endsWith('.idx'));
      assert.ok(idx && others.length === 0);
      await harm(join(packDir, idx));
      assert.deepEqual(await damagedPacks(packDir), [idx.replace(/\.idx$/, '.pack')]);

      assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[3] }), { fetched: true, repaired: 1 });
      assert.ok(!(await readdir(packDir)).includes(idx), 'the damaged pack is gone');
      assert.deepEqual(await damagedPacks(packDir), []);
      const dir = join(await tmpRoot(t), 'out');
      await mkdir(dir);
      await checkoutCommit({ gitdir: f.gitdir, sha: f.c[3], dir });
      // What the damaged pack held comes back by a fetch of its own.
      assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[1] }), { fetched: true, repaired: 0 });
      for (const n of (await readdir(packDir)).filter((n) => n.endsWith('.idx'))) await runGit(['verify-pack', join(packDir, n)], { cwd: f.gitdir });
    });
  }

  test('a damaged pack older than the last fetch: the next fetch starts the cache over, so every commit checks out again', async (t) => {
    // A power cut can leave any pack of the last seconds damaged, not only the newest. The packs
    // after it hold only what changed since (thin fetches), and the last fetched commit, still
    // there, would be sent as a "have": the server would leave out what the damaged one held.
    const f = await fixture(t);
    const packDir = join(f.gitdir, 'objects', 'pack');
    await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[0] });
    const [first] = (await readdir(packDir)).filter((n) => n.endsWith('.idx'));
    await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[1] });
    await truncate(join(packDir, first!), (await stat(join(packDir, first!))).size - 7);

    assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[2] }), { fetched: true, repaired: 1 });
    const root = await tmpRoot(t);
    for (const [i, sha] of [[2, f.c[2]], [1, f.c[1]]] as const) {
      await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha });
      const dir = join(root, `c${i + 1}`);
      await mkdir(dir);
      await checkoutCommit({ gitdir: f.gitdir, sha, dir });
      assert.equal(await readFile(join(dir, 'bin', 'start'), 'utf8'), '#!/bin/sh\necho start\n', `c${i + 1}: a file only the damaged pack held`);
    }
    assert.deepEqual(await damagedPacks(packDir), []);
  });

  test('intact packs are left alone, and a pack without an index is not damage', async (t) => {
    const f = await fixture(t);
    await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[3] });
    const packDir = join(f.gitdir, 'objects', 'pack');
    assert.deepEqual(await damagedPacks(packDir), []);
    await writeFile(join(packDir, `pack-${'1'.repeat(40)}.pack`), 'half a pack');
    assert.deepEqual(await damagedPacks(packDir), []);
    assert.deepEqual(await damagedPacks(join(f.gitdir, 'nothing-here')), []);
  });

  test('fetching a commit the cache already holds makes no request', async (t) => {
    const f = await fixture(t);
    assert.equal(await hasCommit(f.gitdir, f.c[3]), false);
    assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[3] }), { fetched: true, repaired: 0 });
    assert.equal(await hasCommit(f.gitdir, f.c[3]), true);
    f.server.resetCounters();
    assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[3] }), { fetched: false, repaired: 0 });
    assert.equal(f.server.requests.length, 0);
  });

  test('checkout writes exactly the tree, keeps exec bits and symlinks, skips submodules, adds no .git', async (t) => {
    const f = await fixture(t);
    // A submodule is only a gitlink entry in the tree; its commit is in another repository.
    await f.repo.git(['update-index', '--add', '--cacheinfo', `160000,${'cd'.repeat(20)},vendor/sub`]);
    const sha = await f.repo.commit({ 'bin/tool': { content: 'tool\n', mode: 'exec' } }, 'with submodule');
    await f.repo.push();
    await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha });
    const dir = join(f.root, 'app', `mfd_1_${sha}`);
    await mkdir(dir);
    await checkoutCommit({ gitdir: f.gitdir, sha, dir });

    assert.deepEqual(await snapshot(dir), {
      'README.md': '# app v3\n',
      'bin/start*': '#!/bin/sh\necho start\n',
      'bin/tool*': 'tool\n',
      'docs/readme-link': '-> ../README.md',
      'src/new.txt': 'new\n',
    });
    assert.equal((await lstat(join(dir, 'docs/readme-link'))).isSymbolicLink(), true);
    assert.equal(existsSync(join(dir, '.git')), false);
    assert.equal(existsSync(join(f.gitdir, 'index')), false, 'checkout must not write an index into the shared cache');
  });

  test('two commits check out side by side without disturbing each other', async (t) => {
    const f = await fixture(t);
    await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[3] });
    await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[0] });
    const [one, four] = [join(f.root, 'one'), join(f.root, 'four')];
    await Promise.all([mkdir(one), mkdir(four)]);
    await Promise.all([
      checkoutCommit({ gitdir: f.gitdir, sha: f.c[0], dir: one }),
      checkoutCommit({ gitdir: f.gitdir, sha: f.c[3], dir: four }),
    ]);
    assert.equal((await snapshot(one))['src/deep/nested/file.txt'], 'nested\n');
    assert.equal((await snapshot(four))['src/deep/nested/file.txt'], undefined);
    assert.equal((await snapshot(four))['README.md'], '# app v3\n');
  });
});
