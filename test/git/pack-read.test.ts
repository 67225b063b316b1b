import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { GitCacheError } from '../../src/errors/index.ts';
import { checkoutCommit } from '../../src/git/git.ts';
import { PackStore } from '../../src/git/pack-read.ts';
import { createRepo, runGit, tmpRoot } from '../helpers/repo.ts';

/** A bare repository whose objects sit in one pack of ofs or ref deltas, as git made it. */
async function packed(t: Parameters<typeof tmpRoot>[0], deltaArgs: string[]) {
  const root = await tmpRoot(t);
  const repo = await createRepo(root, 'app.git');
  const lines = Array.from({ length: 300 }, (_, i) => `line ${i} that stays the same in most commits\n`);
  let head = '';
  for (let c = 0; c < 6; c++) {
    lines[c * 41] = `commit ${c} changed this line\n`;
    head = await repo.commit({ 'big.txt': lines.join(''), [`d/f${c}`]: `f${c}\n` }, `c${c}`);
  }
  await repo.push();
  const gitdir = join(root, 'cache.git');
  await runGit(['init', '-q', '--bare', gitdir], { cwd: root });
  const pack = execFileSync('git', ['pack-objects', '--revs', '--stdout', '--window=10', ...deltaArgs], { cwd: repo.bare, input: `${head}\n` });
  await runGit(['index-pack', '--stdin'], { cwd: gitdir, input: pack });
  return { root, repo, gitdir, head };
}

describe('reading objects straight from the packs', () => {
  for (const [kind, args] of [['ofs', ['--delta-base-offset']], ['ref', []]] as const) {
    test(`every object of a pack of ${kind} deltas reads as git cat-file gives it`, async (t) => {
      const { gitdir } = await packed(t, [...args]);
      const verify = execFileSync('git', ['verify-pack', '-v', ...(await readdir(join(gitdir, 'objects', 'pack'))).filter((n) => n.endsWith('.idx')).map((n) => join(gitdir, 'objects', 'pack', n))]).toString();
      assert.match(verify, /chain length = [1-9]/, 'the pack holds deltas');
      const oids = verify.split('\n').filter((l) => /^[0-9a-f]{40} /.test(l)).map((l) => l.slice(0, 40));
      const store = new PackStore(gitdir);
      try {
        for (const oid of oids) {
          const type = execFileSync('git', ['cat-file', '-t', oid], { cwd: gitdir }).toString().trim();
          const object = store.read(oid);
          assert.ok(object, oid);
          assert.equal(object.type, type);
          assert.ok(object.content.equals(execFileSync('git', ['cat-file', type, oid], { cwd: gitdir })), `${oid} differs`);
        }
        assert.equal(store.read('0'.repeat(40)), undefined);
      } finally {
        store.close();
      }
    });
  }

  test('a damaged pack in the cache is a GitCacheError at checkout, never a wrong file', async (t) => {
    const { root, gitdir, head } = await packed(t, ['--delta-base-offset']);
    const packDir = join(gitdir, 'objects', 'pack');
    const pack = join(packDir, (await readdir(packDir)).find((n) => n.endsWith('.pack'))!);
    const bytes = await readFile(pack);
    // Flip bytes in the middle of the pack: some object there no longer inflates or hashes right.
    for (let i = Math.floor(bytes.length / 3); i < Math.floor(bytes.length / 3) + 64; i++) bytes[i]! ^= 0x5a;
    await writeFile(pack, bytes);
    const dir = join(root, 'out');
    await mkdir(dir);
    await assert.rejects(checkoutCommit({ gitdir, sha: head, dir }), (error: unknown) => {
      assert.ok(error instanceof GitCacheError, String(error));
      assert.equal(error.exitCode, 4);
      return true;
    });
  });

  /**
   * A cache holding one commit with a blob above checkout's stream threshold (8 MiB), stored whole.
   * Made once for both tests that need it (seconds of git and zlib); each reads it or damages a copy.
   */
  let largeOnce: ReturnType<typeof makeLarge> | undefined;
  let largeRoot: string | undefined;
  after(() => (largeRoot ? rm(largeRoot, { recursive: true, force: true }) : undefined));
  async function makeLarge() {
    const root = (largeRoot = await mkdtemp(join(tmpdir(), 'mfd-')));
    const repo = await createRepo(root, 'app.git');
    const big = Buffer.concat(Array.from({ length: 9 * 1024 * 32 }, (_, i) => createHash('sha256').update(`b${i}`).digest()));
    const head = await repo.commit({ 'd/big.bin': big, 'small.txt': 'small\n' }, 'large');
    await repo.push();
    const gitdir = join(root, 'cache.git');
    await runGit(['init', '-q', '--bare', gitdir], { cwd: root });
    await runGit(['index-pack', '--stdin'], { cwd: gitdir, input: execFileSync('git', ['pack-objects', '--revs', '--stdout'], { cwd: repo.bare, input: `${head}\n`, maxBuffer: 64 * 1024 ** 2 }) });
    const oid = (path: string) => execFileSync('git', ['rev-parse', `${head}:${path}`], { cwd: gitdir }).toString().trim();
    return { gitdir, head, big, bigOid: oid('d/big.bin'), smallOid: oid('small.txt') };
  }
  /** The shared cache, or (`own`) a copy of it in the test's own temp root, with that root for output. */
  async function large(t: Parameters<typeof tmpRoot>[0], own = false) {
    const shared = await (largeOnce ??= makeLarge());
    const root = await tmpRoot(t);
    if (!own) return { ...shared, root };
    const gitdir = join(root, 'cache.git');
    await cp(shared.gitdir, gitdir, { recursive: true });
    return { ...shared, root, gitdir };
  }

  test('a large blob is inflated into its file in pieces: the same bytes, no temp name left', async (t) => {
    const { root, gitdir, head, big, bigOid, smallOid } = await large(t);
    const store = new PackStore(gitdir);
    try {
      assert.equal(store.stream(bigOid, 8 * 1024 ** 2)?.size, big.length, 'stored whole and large: streamed');
      assert.equal(store.stream(smallOid, 8 * 1024 ** 2), undefined, 'small: read whole');
      const pieces: Buffer[] = [];
      await store.stream(bigOid, 0)!.pipe((piece) => pieces.push(Buffer.from(piece)));
      assert.ok(pieces.length > 1, 'more than one piece');
      assert.ok(Buffer.concat(pieces).equals(big));
    } finally {
      store.close();
    }
    const dir = join(root, 'out');
    await mkdir(dir);
    await checkoutCommit({ gitdir, sha: head, dir });
    assert.ok((await readFile(join(dir, 'd', 'big.bin'))).equals(big));
    assert.deepEqual(await readdir(join(dir, 'd')), ['big.bin']);
  });

  test('a damaged large blob is a GitCacheError, and no file is left at its path', async (t) => {
    const { root, gitdir, head, big } = await large(t, true);
    const packDir = join(gitdir, 'objects', 'pack');
    const pack = join(packDir, (await readdir(packDir)).find((n) => n.endsWith('.pack'))!);
    const bytes = await readFile(pack);
    // Inside the blob's stored (incompressible) blocks: it inflates, to the wrong bytes, to the very end.
    const at = bytes.indexOf(big.subarray(4 * 1024 ** 2, 4 * 1024 ** 2 + 64));
    assert.ok(at > 0);
    bytes[at + 10]! ^= 0x5a;
    await writeFile(pack, bytes);
    const dir = join(root, 'out');
    await mkdir(dir);
    await assert.rejects(checkoutCommit({ gitdir, sha: head, dir }), (error: unknown) => {
      assert.ok(error instanceof GitCacheError, String(error));
      // zlib's own check (Adler-32) or the blob's id, whichever sees it first.
      assert.match(error.message, /damaged|does not inflate: incorrect data check/);
      return true;
    });
    assert.deepEqual(await readdir(join(dir, 'd')), [], 'neither the file nor its temp name');
  });
});
