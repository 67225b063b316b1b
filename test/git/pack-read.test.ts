import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
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
});
