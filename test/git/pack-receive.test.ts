import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { CheckoutFailedError, GitPackInvalidError } from '../../src/errors/index.ts';
import { checkoutCommit, fetchCommit, resolveRef } from '../../src/git/git.ts';
import { gitFixture as fixture } from '../helpers/git-fixture.ts';
import { startGitServer } from '../helpers/git-server.ts';
import { createRepo, runGit, tmpRoot } from '../helpers/repo.ts';

/** Every pack of the cache with git's own .idx for it beside ours. */
async function checkPacks(packDir: string, root: string): Promise<number> {
  const names = await readdir(packDir);
  assert.deepEqual(names.filter((n) => !/^pack-[0-9a-f]{40}\.(pack|idx)$/.test(n)), [], 'nothing but packs and their indexes');
  const packs = names.filter((n) => n.endsWith('.pack'));
  for (const pack of packs) {
    const theirs = join(root, `git-${pack}.idx`);
    await runGit(['index-pack', '-o', theirs, join(packDir, pack)], { cwd: root });
    assert.ok((await readFile(theirs)).equals(await readFile(join(packDir, pack.replace(/\.pack$/, '.idx')))), `${pack}: .idx differs from git's`);
  }
  return packs.length;
}

describe('fetch: mfd receives, indexes and stores the pack itself', () => {
  test('a first and a thin fetch store self-contained packs indexed byte for byte as git does', async (t) => {
    const f = await fixture(t);
    const packDir = join(f.gitdir, 'objects', 'pack');
    await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[1] });
    assert.equal(await checkPacks(packDir, f.root), 1);
    await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[3] });
    assert.equal(await checkPacks(packDir, f.root), 2);
    // Native git reads the cache whole: every object of both commits is there, no delta left open.
    await runGit(['fsck', '--connectivity-only', '--no-dangling', f.c[3]], { cwd: f.gitdir });
    await runGit(['cat-file', '-e', `${f.c[3]}^{tree}`], { cwd: f.gitdir });
  });

  test('the shallow file holds the depth-1 boundaries, as isomorphic-git kept it, and never a root commit', async (t) => {
    const f = await fixture(t);
    const shallow = async (gitdir: string) => (await readFile(join(gitdir, 'shallow'), 'utf8').catch(() => '')).split('\n').filter(Boolean).sort();
    await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[1] });
    assert.deepEqual(await shallow(f.gitdir), [f.c[1]]);
    await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[3] });
    assert.deepEqual(await shallow(f.gitdir), [f.c[1], f.c[3]].sort());
    // The root commit has no parents to miss: not a boundary.
    const other = join(f.root, 'other.git');
    await fetchCommit({ remote: f.remote, gitdir: other, sha: f.c[0] });
    assert.deepEqual(await shallow(other), []);
  });
});

describe('fetch: what a killed fetch left in the cache', () => {
  test('a temp pack and a pack without its index are removed by the next fetch, not 32 fetches later', async (t) => {
    const f = await fixture(t);
    const packDir = join(f.gitdir, 'objects', 'pack');
    await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[1] });
    const [pack] = (await readdir(packDir)).filter((n) => n.endsWith('.pack'));
    // A kill mid-transfer leaves tmp_pack_*; one between storeIndexed's renames, a .pack alone.
    await writeFile(join(packDir, 'tmp_pack_0123456789abcdef'), Buffer.alloc(1 << 20));
    await copyFile(join(packDir, pack!), join(packDir, `pack-${'e'.repeat(40)}.pack`));
    await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[3] });
    const after = await readdir(packDir);
    assert.deepEqual(after.filter((n) => n.startsWith('tmp_pack_') || n.startsWith(`pack-${'e'.repeat(40)}`)), [], after.join(', '));
    assert.equal(await checkPacks(packDir, f.root), 2);
  });
});

describe('fetch: a large pack goes to disk as it arrives', () => {
  const remoteOf = (url: string) => ({ url, auth: { kind: 'none' as const } });
  const cases: [string, (url: string, gitdir: string, sha: string) => Promise<unknown>, (sha: string) => unknown][] = [
    ['a fetch', (url, gitdir, sha) => fetchCommit({ remote: remoteOf(url), gitdir, sha }), () => ({ fetched: true, repaired: 0 })],
    // The search fetches every branch and tag: isomorphic-git must not be the one receiving that pack either.
    ['a short sha\'s search', (url, gitdir, sha) => resolveRef({ remote: remoteOf(url), gitdir, ref: sha.slice(0, 8) }), (sha) => ({ sha, ref: sha.slice(0, 8) })],
  ];
  for (const [what, run, expected] of cases) {
    test(`${what}: half-way through the transfer the pack sits in a temp file of the cache, and nothing else is there`, async (t) => {
      const root = await tmpRoot(t);
      const repo = await createRepo(join(root, 'srv'), 'app.git');
      // A few MiB that do not compress: the pack is about as large.
      const noise = Buffer.concat(Array.from({ length: 4 * 1024 * 32 }, (_, i) => createHash('sha256').update(`n${i}`).digest()));
      const sha = await repo.commit({ 'big.bin': noise, 'README': 'hi\n' }, 'big');
      await repo.push();
      let release: (() => void) | undefined;
      let reached!: () => void;
      const halfway = new Promise<void>((r) => (reached = r));
      const server = await startGitServer({
        root: join(root, 'srv'),
        maxChunk: () => 256 * 1024,
        beforeChunk: async (entry, sent) => {
          if (entry.command !== 'fetch' || sent < noise.length / 2 || release) return;
          await new Promise<void>((r) => {
            release = r;
            reached();
          });
        },
      });
      // A failed assertion must not leave the answer held: the server would never close.
      t.after(() => {
        release?.();
        return server.close();
      });
      const gitdir = join(root, 'repo.git');
      const packDir = join(gitdir, 'objects', 'pack');
      const running = run(server.url('app.git'), gitdir, sha);
      await halfway;
      // Bounded wait (10 s) for the bytes already sent to reach the file.
      let temp: string[] = [];
      for (let i = 0; i < 1000 && !(temp.length === 1 && (await stat(join(packDir, temp[0]!))).size > noise.length / 4); i++) {
        await new Promise((r) => setTimeout(r, 10));
        temp = existsSync(packDir) ? await readdir(packDir) : [];
      }
      assert.equal(temp.length, 1, `only the temp pack: ${temp.join(', ')}`);
      assert.match(temp[0]!, /^tmp_pack_[0-9a-f]+$/);
      assert.ok((await stat(join(packDir, temp[0]!))).size > noise.length / 4, 'the bytes received so far are on disk');
      release!();
      assert.deepEqual(await running, expected(sha));
      assert.equal(await checkPacks(packDir, root), 1);
    });
  }
});

/** A server that advertises like `git http-backend` and answers the fetch with `pack` on side-band 1. */
async function hostileServer(t: TestContext, advertisement: Buffer, pack: Buffer): Promise<string> {
  const pkt = (payload: Buffer) => Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload]);
  const server = createServer((req, res) => {
    req.resume();
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' });
      res.end(advertisement);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-result' });
    const parts = [pkt(Buffer.from('NAK\n'))];
    for (let at = 0; at < pack.length; at += 1000) parts.push(pkt(Buffer.concat([Buffer.from([1]), pack.subarray(at, at + 1000)])));
    res.end(Buffer.concat([...parts, Buffer.from('0000')]));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise((r) => server.close(r)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/app.git`;
}

describe('fetch: a pack without all of the commit\'s tree', () => {
  test('the checkout that finds an object missing makes the next fetch start the cache over, and that deploy checks out', async (t) => {
    const f = await fixture(t);
    const res = await fetch(`${f.remote.url}/info/refs?service=git-upload-pack`);
    const advertisement = Buffer.from(await res.arrayBuffer());
    // The commit and its trees, but none of its files: a pack git's own fetch would refuse.
    const git = (...args: string[]) => execFileSync('git', args, { cwd: f.repo.bare, encoding: 'utf8' }).trim();
    const subtrees = git('ls-tree', '-r', '-t', f.c[0]).split('\n').map((l) => l.split(/\s+/)).filter((e) => e[1] === 'tree').map((e) => e[2]!);
    const objects = [f.c[0], git('rev-parse', `${f.c[0]}^{tree}`), ...subtrees];
    const pack = execFileSync('git', ['pack-objects', '--stdout'], { cwd: f.repo.bare, input: `${objects.join('\n')}\n` });
    const url = await hostileServer(t, advertisement, pack);
    const root = await tmpRoot(t);
    const gitdir = join(root, 'repo.git');
    await fetchCommit({ remote: { url, auth: { kind: 'none' } }, gitdir, sha: f.c[0] });
    await mkdir(join(root, 'one'));
    await assert.rejects(checkoutCommit({ gitdir, sha: f.c[0], dir: join(root, 'one') }), (error: unknown) => {
      assert.ok(error instanceof CheckoutFailedError, String(error));
      assert.match(error.message, /is missing from the cache \(the server sent an incomplete pack\); the next deploy fetches it anew/);
      return true;
    });
    // The next deploy, from a server that sends whole packs: no hand has to remove the cache.
    assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir, sha: f.c[0] }), { fetched: true, repaired: 0, startedOver: true });
    await mkdir(join(root, 'two'));
    await checkoutCommit({ gitdir, sha: f.c[0], dir: join(root, 'two') });
    assert.equal(await readFile(join(root, 'two', 'README.md'), 'utf8'), '# app\n');
    assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir, sha: f.c[0] }), { fetched: false, repaired: 0 }, 'once');
  });
});

describe('fetch: a pack that is not what it claims is refused, and nothing is stored', () => {
  const damages: [string, (pack: Buffer) => Buffer, RegExp][] = [
    ['cut short', (p) => p.subarray(0, p.length - 100), /checksum|announces/],
    ['one byte flipped', (p) => { const q = Buffer.from(p); q[q.length - 60]! ^= 0xff; return q; }, /checksum/],
    ['flipped with a matching checksum', (p) => {
      const body = Buffer.from(p.subarray(0, -20));
      body[body.length - 40]! ^= 0xff;
      return Buffer.concat([body, createHash('sha1').update(body).digest()]);
    }, /inflate|declares|delta|type|follow|cut short/],
  ];
  for (const [name, damage, reason] of damages) {
    test(`a pack ${name} is a GitPackInvalidError (exit 4)`, async (t) => {
      const f = await fixture(t);
      const res = await fetch(`${f.remote.url}/info/refs?service=git-upload-pack`);
      const advertisement = Buffer.from(await res.arrayBuffer());
      const pack = execFileSync('git', ['pack-objects', '--revs', '--stdout'], { cwd: f.repo.bare, input: `${f.c[3]}\n` });
      const url = await hostileServer(t, advertisement, damage(pack));
      const root = await tmpRoot(t);
      const gitdir = join(root, 'repo.git');
      await assert.rejects(fetchCommit({ remote: { url, auth: { kind: 'none' } }, gitdir, sha: f.c[3] }), (error: unknown) => {
        assert.ok(error instanceof GitPackInvalidError, String(error));
        assert.equal(error.code, 'GIT_PACK_INVALID');
        assert.equal(error.exitCode, 4);
        assert.match(error.message, reason);
        assert.ok(error.message.startsWith(`the pack from ${url} is invalid: `), error.message);
        return true;
      });
      const packDir = join(gitdir, 'objects', 'pack');
      assert.deepEqual(existsSync(packDir) ? await readdir(packDir) : [], [], 'no pack, index or temp file left');
    });
  }
});
