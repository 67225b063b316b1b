import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { filterAdvertisement, headFirst } from '../../src/git/discovery.ts';
import { checkoutCommit, fetchCommit, resolveRef } from '../../src/git/git.ts';
import { connect } from '../../src/git/transport.ts';
import { gitFixture as fixture } from '../helpers/git-fixture.ts';
import { until } from '../helpers/hold.ts';
import { runGit } from '../helpers/repo.ts';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The ref names of a v1 advertisement body. */
function refNames(body: Buffer): string[] {
  const names: string[] = [];
  for (let at = 0; at < body.length; ) {
    const length = Number.parseInt(body.toString('latin1', at, at + 4), 16);
    if (length === 0) {
      at += 4;
      continue;
    }
    const line = body.toString('latin1', at + 4, at + length);
    if (!line.startsWith('# service=')) names.push(line.slice(41).split(/[\0\n]/)[0]!);
    at += length;
  }
  return names;
}

async function advertisement(http: ReturnType<typeof connect>['http'], url: string): Promise<Buffer> {
  const res = await http.request({ url: `${url}/info/refs?service=git-upload-pack` });
  assert.equal(res.statusCode, 200);
  const chunks: Uint8Array[] = [];
  for await (const chunk of res.body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('git: the fetch discovers no refs it does not need', () => {
  test("a fetch by sha gets the advertisement cut to capabilities and HEAD, and fetches and checks out", async (t) => {
    const f = await fixture(t);
    // Hundreds of refs, as on a real repository.
    const lines = Array.from({ length: 500 }, (_, i) => `create refs/heads/topic-${i} ${f.c[i % 4]}\n`).join('');
    await runGit(['update-ref', '--stdin'], { cwd: f.repo.bare, input: lines });
    const conn = connect(f.remote);
    const full = refNames(await advertisement(conn.http, f.remote.url));
    assert.ok(full.length > 500, `${full.length} refs advertised`);
    const cut = await advertisement(conn.fetchHttp, f.remote.url);
    assert.deepEqual(refNames(cut), ['HEAD']);
    // The capabilities (symref among them) stay on the first line.
    assert.match(cut.toString('latin1'), /\0[^\n]*shallow[^\n]*symref=HEAD:refs\/heads\/main/);

    assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[2] }), { fetched: true, repaired: 0 });
    // The incremental (thin) fetch goes through the same cut advertisement.
    assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[3] }), { fetched: true, repaired: 0 });
    const dir = join(f.root, 'out');
    await mkdir(dir);
    await checkoutCommit({ gitdir: f.gitdir, sha: f.c[3], dir });
    assert.equal(await readFile(join(dir, 'README.md'), 'utf8'), await runGit(['show', `${f.c[3]}:README.md`], { cwd: f.repo.bare }) + '\n');
  });

  test('a fetch by sha reads the advertisement only up to its HEAD line: it fetches while the refs behind it are held back', async (t) => {
    let fetched = false;
    let heldOut = false;
    // The v1 advertisement in pieces of 2,000 bytes, all but the first held until the fetch is done
    // (at most 30 s): a fetch that waited for the whole advertisement would not be done by then.
    const f = await fixture(t, {
      server: {
        maxChunk: (entry) => (entry.command === 'advertise' ? 2000 : undefined),
        beforeChunk: async (entry, sent) => {
          if (entry.command !== 'advertise' || sent < 2000 || fetched) return;
          heldOut = await until(async () => fetched, 'the fetch', 30_000).then(() => false, () => true);
        },
      },
    });
    const lines = Array.from({ length: 500 }, (_, i) => `create refs/heads/topic-${i} ${f.c[i % 4]}\n`).join('');
    await runGit(['update-ref', '--stdin'], { cwd: f.repo.bare, input: lines });
    assert.deepEqual(await fetchCommit({ remote: f.remote, gitdir: f.gitdir, sha: f.c[2] }), { fetched: true, repaired: 0 });
    fetched = true;
    assert.equal(heldOut, false, 'the fetch waited for the whole advertisement');
    assert.deepEqual(f.server.requests.map((r) => r.command), ['advertise', 'fetch']);
    const dir = join(f.root, 'out');
    await mkdir(dir);
    await checkoutCommit({ gitdir: f.gitdir, sha: f.c[2], dir });
    assert.equal(await readFile(join(dir, 'README.md'), 'utf8'), '# app v1\n');
  });

  test('the start of an advertisement gives what filtering the whole gives when HEAD comes first, and the whole is read otherwise', async (t) => {
    const f = await fixture(t);
    const conn = connect(f.remote);
    const whole = await advertisement(conn.http, f.remote.url);
    const head = headFirst(whole);
    assert.ok(Buffer.isBuffer(head), String(head));
    assert.deepEqual(Buffer.concat([head, Buffer.from('0000')]), filterAdvertisement(whole));
    // Any cut before the end of the HEAD line asks for more; nothing past it is read.
    for (let cut = 0; cut < head.length; cut += 7) assert.equal(headFirst(whole.subarray(0, cut)), 'later', `cut at ${cut}`);
    assert.deepEqual(headFirst(whole.subarray(0, head.length)), head);
    // HEAD not first (a server other than git's), none at all (an unborn default branch), not an advertisement: read whole.
    const line = (text: string) => `${(text.length + 4).toString(16).padStart(4, '0')}${text}`;
    const service = `${line('# service=git-upload-pack\n')}0000`;
    assert.equal(headFirst(Buffer.from(`${service}${line(`${f.c[0]} refs/heads/main\0shallow\n`)}${line(`${f.c[0]} HEAD\n`)}0000`, 'latin1')), 'no');
    assert.equal(headFirst(Buffer.from(`${service}0000`, 'latin1')), 'no');
    assert.equal(headFirst(Buffer.from('zzzz0000', 'latin1')), 'no');
    assert.equal(headFirst(Buffer.from(service, 'latin1')), 'later');
    // Unborn HEAD: git's advertisement then starts with another ref.
    await runGit(['symbolic-ref', 'HEAD', 'refs/heads/unborn'], { cwd: f.repo.bare });
    assert.equal(headFirst(await advertisement(conn.http, f.remote.url)), 'no');
  });

  test('resolving a bare name lists only the refs it can be, not every tag', async (t) => {
    const f = await fixture(t);
    const lines = Array.from({ length: 500 }, (_, i) => `create refs/tags/release-${i} ${f.c[i % 4]}\n`).join('');
    await runGit(['update-ref', '--stdin'], { cwd: f.repo.bare, input: lines });
    for (const [name, sha, ref] of [['main', f.c[3], 'refs/heads/main'], ['v1', f.c[1], 'refs/tags/v1'], ['release-7', f.c[3], 'refs/tags/release-7']] as const) {
      f.server.resetCounters();
      assert.deepEqual(await resolveRef({ remote: f.remote, gitdir: f.gitdir, ref: name }), { sha, ref });
      const listing = f.server.requests.find((r) => r.command === 'ls-refs');
      assert.ok(listing, 'a protocol v2 ls-refs');
      // 500 tags listed would be over 25 KB; the few refs a name can be, a few hundred bytes.
      assert.ok(listing.bytes < 2000, `${name}: ls-refs sent ${listing.bytes} bytes`);
    }
  });

  test('an answer not shaped as a v1 advertisement is passed on whole', () => {
    for (const body of ['', '001e# service=git-upload-pack\n', 'zzzz', '0009abcde0000', '001e# service=git-upload-pack\n0000003fxx']) {
      assert.deepEqual(filterAdvertisement(Buffer.from(body, 'latin1')), Buffer.from(body, 'latin1'));
    }
  });
});
