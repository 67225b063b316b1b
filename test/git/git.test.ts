import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RefAmbiguousError, RefNotFoundError } from '../../src/errors/index.ts';
import { checkoutCommit, fetchCommit, resolveRef } from '../../src/git/git.ts';
import { gitFixture as fixture } from '../helpers/git-fixture.ts';
import type { GitServer } from '../helpers/git-server.ts';
import { EPOCH, IDENTITY, runGit } from '../helpers/repo.ts';

/** The id git gives an object of `type` with content `body`. */
function objectId(type: string, body: string): string {
  return createHash('sha1').update(`${type} ${Buffer.byteLength(body)}\0${body}`).digest('hex');
}

function onlyRefAdvertisements(server: GitServer): void {
  assert.ok(server.requests.length > 0, 'expected at least one request');
  for (const r of server.requests) {
    assert.ok(['advertise', 'ls-refs'].includes(r.command), `unexpected ${r.method} ${r.path} (${r.command})`);
  }
}

describe('git: resolveRef by name', () => {
  test('no ref resolves the remote default branch through its HEAD symref', async (t) => {
    const f = await fixture(t, { branch: 'trunk' });
    assert.deepEqual(await resolveRef({ remote: f.remote, gitdir: f.gitdir }), { sha: f.c[3], ref: 'refs/heads/trunk' });
  });

  test('a configured branch is used when no ref is given', async (t) => {
    const f = await fixture(t);
    assert.deepEqual(await resolveRef({ remote: f.remote, gitdir: f.gitdir, branch: 'feature' }), { sha: f.c[1], ref: 'refs/heads/feature' });
  });

  test('branch names, full ref names and HEAD resolve to their commit', async (t) => {
    const f = await fixture(t);
    assert.deepEqual(await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: 'feature' }), { sha: f.c[1], ref: 'refs/heads/feature' });
    assert.deepEqual(await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: 'refs/heads/main' }), { sha: f.c[3], ref: 'refs/heads/main' });
    assert.deepEqual(await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: 'HEAD' }), { sha: f.c[3], ref: 'refs/heads/main' });
  });

  test('a lightweight tag resolves to its commit and an annotated tag is peeled to its commit', async (t) => {
    const f = await fixture(t);
    assert.deepEqual(await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: 'v1' }), { sha: f.c[1], ref: 'refs/tags/v1' });
    const tagObject = await runGit(['rev-parse', 'refs/tags/v2'], { cwd: f.repo.bare });
    assert.notEqual(tagObject, f.c[2]);
    assert.deepEqual(await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: 'v2' }), { sha: f.c[2], ref: 'refs/tags/v2' });
  });

  test('resolving names uses only the ref advertisement: no pack is fetched and no cache is created', async (t) => {
    const f = await fixture(t);
    for (const ref of [undefined, 'main', 'v2', 'refs/tags/v1', 'HEAD']) await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref });
    onlyRefAdvertisements(f.server);
    assert.equal(existsSync(f.gitdir), false);
  });

  test('a full sha is returned as given without asking the server', async (t) => {
    const f = await fixture(t);
    const unknown = 'ab'.repeat(20);
    assert.deepEqual(await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: f.c[0].toUpperCase() }), { sha: f.c[0], ref: f.c[0].toUpperCase() });
    assert.deepEqual(await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: unknown }), { sha: unknown, ref: unknown });
    assert.equal(f.server.requests.length, 0);
  });

  test('an unknown ref is a RefNotFoundError naming the ref and the URL without credentials', async (t) => {
    const f = await fixture(t, { auth: { username: 'alice', password: 's3cret' } });
    const remote = { url: f.remote.url.replace('http://', 'http://alice:s3cret@'), auth: { kind: 'none' } as const };
    await assert.rejects(resolveRef({ remote, gitdir: f.gitdir, ref: 'no-such-branch' }), (error: unknown) => {
      assert.ok(error instanceof RefNotFoundError);
      assert.equal(error.code, 'REF_NOT_FOUND');
      assert.match(error.message, /no-such-branch/);
      assert.ok(error.message.includes(f.remote.url), error.message);
      assert.ok(!`${error.message} ${error.hint}`.includes('s3cret'));
      assert.ok(!`${error.message} ${error.hint}`.includes('alice'));
      return true;
    });
  });
});

describe('git: resolveRef by sha and revision', () => {
  test('a unique short sha is found in history, deepening the cache until it appears', async (t) => {
    const f = await fixture(t);
    // c1 is no branch or tag tip, so a depth-1 fetch of the tips cannot contain it.
    assert.deepEqual(await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: f.c[0].slice(0, 7) }), { sha: f.c[0], ref: f.c[0].slice(0, 7) });
  });

  test('a short sha shared by two commits is a RefAmbiguousError listing both', async (t) => {
    const f = await fixture(t);
    const tree = await f.repo.git(['rev-parse', `${f.c[3]}^{tree}`]);
    const date = EPOCH + 1_000_000;
    const person = `${IDENTITY.name} <${IDENTITY.email}> ${date} +0000`;
    const shaOf = (i: number) => objectId('commit', `tree ${tree}\nparent ${f.c[3]}\nauthor ${person}\ncommitter ${person}\n\nprobe ${i}\n`);
    // Hashes are reproducible, so the first pair of probes sharing 4 hex digits is always the same.
    const seen = new Map<string, number>();
    let pair: [number, number] | undefined;
    for (let i = 0; !pair; i++) {
      const prefix = shaOf(i).slice(0, 4);
      const earlier = seen.get(prefix);
      if (earlier === undefined) seen.set(prefix, i);
      else pair = [earlier, i];
    }
    const shas: string[] = [];
    for (const [n, i] of pair.entries()) {
      const sha = await f.repo.git(['commit-tree', tree, '-p', f.c[3], '-m', `probe ${i}`], { date });
      assert.equal(sha, shaOf(i));
      await f.repo.branch(`probe-${n}`, sha);
      shas.push(sha);
    }
    await f.repo.push();
    const prefix = shas[0]!.slice(0, 4);
    await assert.rejects(resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: prefix }), (error: unknown) => {
      assert.ok(error instanceof RefAmbiguousError);
      for (const sha of shas) assert.ok(error.candidates.includes(sha));
      assert.match(error.message, new RegExp(prefix));
      return true;
    });
  });

  test('a short sha matching no commit is a RefNotFoundError after the whole history was searched', async (t) => {
    const f = await fixture(t);
    const objects = (await runGit(['cat-file', '--batch-all-objects', '--batch-check=%(objectname)'], { cwd: f.repo.bare })).split('\n');
    const prefix = 'deadbee';
    assert.ok(!objects.some((o) => o.startsWith(prefix)));
    await assert.rejects(resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: prefix }), RefNotFoundError);
    assert.equal((await readFile(join(f.gitdir, 'shallow'), 'utf8').catch(() => '')).trim(), '');
  });

  test('~N, ^ and chains of them walk parents from a branch or a tag', async (t) => {
    const f = await fixture(t);
    const resolve = async (ref: string) => (await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref })).sha;
    assert.equal(await resolve('main~2'), f.c[1]);
    assert.equal(await resolve('main^'), f.c[2]);
    assert.equal(await resolve('v2^'), f.c[1]);
    assert.equal(await resolve('main~2^'), f.c[0]);
    assert.equal(await resolve('main^0'), f.c[3]);
    assert.equal(await resolve(`${f.c[3].slice(0, 8)}~3`), f.c[0]);
    assert.equal(await resolve(`${f.c[2]}~1`), f.c[1]);
  });

  test('^2 takes the second parent of a merge', async (t) => {
    const f = await fixture(t);
    await f.repo.git(['checkout', '--quiet', 'feature']);
    const side = await f.repo.commit({ 'side.txt': 'side\n' }, 'side');
    await f.repo.git(['checkout', '--quiet', 'main']);
    await f.repo.git(['merge', '--quiet', '--no-ff', '-m', 'merge', 'feature']);
    await f.repo.push();
    assert.equal((await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: 'main^2' })).sha, side);
    assert.equal((await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: 'main^2~1' })).sha, f.c[1]);
    assert.equal((await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: 'main^1' })).sha, f.c[3]);
  });

  test('walking past the first commit is a RefNotFoundError', async (t) => {
    const f = await fixture(t);
    await assert.rejects(resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: 'main~4' }), (error: unknown) => {
      assert.ok(error instanceof RefNotFoundError);
      assert.match(error.message, /main~4/);
      return true;
    });
  });

  test('~N deepens a cache that already holds the base commit shallowly', async (t) => {
    const f = await fixture(t);
    await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[3] });
    assert.equal((await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: 'main~2' })).sha, f.c[1]);
    const dir = join(f.root, 'out');
    await mkdir(dir);
    await checkoutCommit({ gitdir: f.gitdir, sha: f.c[1], dir });
    assert.equal(await readFile(join(dir, 'README.md'), 'utf8'), '# app v1\n');
  });
});
