import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { deflateSync } from 'node:zlib';
import { indexPackFile, PackProblem, type ExternalReader, type IndexedPack, type PackObject } from '../../src/git/pack-index.ts';
import { applyDelta, DeltaError, objectHeader, type PackObjectType } from '../../src/git/pack-format.ts';
import { createRepo, runGit, tmpRoot, type TestRepo } from '../helpers/repo.ts';

/** A repository whose files change a little in each commit, so git packs them as deltas. */
async function history(t: TestContext): Promise<{ root: string; repo: TestRepo; commits: string[] }> {
  const root = await tmpRoot(t);
  const repo = await createRepo(root, 'app.git');
  const lines = Array.from({ length: 400 }, (_, i) => `line ${i} of a file that changes a little in each commit\n`);
  const commits: string[] = [];
  for (let c = 0; c < 8; c++) {
    lines[c * 37] = `changed in commit ${c}\n`;
    const files: Record<string, string> = { 'big.txt': lines.join(''), 'other.txt': lines.slice(0, 200 + c).join('') };
    files[`dir${c % 3}/f${c}.txt`] = `file ${c}\n`;
    commits.push(await repo.commit(files, `commit ${c}`));
  }
  await repo.push();
  return { root, repo, commits };
}

/** `git pack-objects` of `revs` with `args`, and what git index-pack writes for it. */
async function gitPack(repo: TestRepo, root: string, name: string, args: string[], revs: string): Promise<Buffer> {
  const base = join(root, name);
  await runGit(['pack-objects', '--revs', ...args, base], { cwd: repo.bare, input: revs });
  const packs = (await readdir(root)).filter((f) => f.startsWith(`${name}-`) && f.endsWith('.pack'));
  assert.equal(packs.length, 1);
  return readFile(join(root, packs[0]!));
}

/** git's own .idx of the pack bytes `pack`, and its object count. */
async function gitIndex(root: string, pack: Buffer, name: string): Promise<Buffer> {
  const path = join(root, `${name}.pack`);
  await writeFile(path, pack);
  await runGit(['index-pack', '-o', join(root, `${name}.idx`), path], { cwd: root });
  return readFile(join(root, `${name}.idx`));
}

/** indexPackFile of the pack bytes `pack`, written to a file of its own under `root`; `pack` is the file's bytes after (a thin pack's bases appended in place). */
async function indexBytes(root: string, pack: Buffer, readExternal?: ExternalReader): Promise<IndexedPack & { pack: Buffer }> {
  const path = join(await mkdtemp(join(root, 'index-')), 'in.pack');
  await writeFile(path, pack);
  const indexed = await indexPackFile(path, readExternal);
  return { ...indexed, pack: await readFile(path) };
}

describe('pack indexing: byte for byte git index-pack', () => {
  test('plain, ofs-delta and ref-delta packs', async (t) => {
    const { root, repo, commits } = await history(t);
    const all = `${commits.at(-1)}\n`;
    const cases: [string, string[]][] = [
      ['plain', ['--window=0']],
      ['ofs', ['--delta-base-offset', '--window=10', '--depth=50']],
      ['ref', ['--window=10', '--depth=50']],
    ];
    for (const [name, args] of cases) {
      const pack = await gitPack(repo, root, name, args, all);
      const ours = await indexBytes(root, pack);
      assert.equal(ours.appended, 0);
      assert.ok(ours.pack.equals(pack), `${name}: a self-contained pack file is left as it came`);
      assert.ok(ours.idx.equals(await gitIndex(root, pack, `check-${name}`)), `${name}: .idx differs from git's`);
      assert.equal(ours.name, pack.subarray(-20).toString('hex'));
    }
    // The delta packs really hold deltas (verify-pack lists their chain lengths).
    const verify = await runGit(['verify-pack', '-v', join(root, 'check-ofs.idx')], { cwd: root });
    assert.match(verify, /chain length = [1-9]/);
  });

  test('a thin pack file gets its bases from the cache appended in place and indexes as git indexes the result', async (t) => {
    const { root, repo, commits } = await history(t);
    // --thin only goes to stdout (git will not write an unindexable pack itself).
    const thin = execFileSync('git', ['pack-objects', '--revs', '--thin', '--delta-base-offset', '--stdout'], { cwd: repo.bare, input: `${commits[7]}\n^${commits[5]}\n` });
    const read = async (oid: string): Promise<PackObject | undefined> => {
      const type = (await runGit(['cat-file', '-t', oid], { cwd: repo.bare }).catch(() => '')) as PackObjectType | '';
      if (!type) return undefined;
      return { type, content: execFileSync('git', ['cat-file', type, oid], { cwd: repo.bare }) };
    };
    await assert.rejects(indexBytes(root, thin), (e) => e instanceof PackProblem && /have no base/.test(e.message), 'a thin pack needs its bases');
    const ours = await indexBytes(root, thin, read);
    assert.ok(ours.appended > 0);
    assert.ok(ours.pack.length > thin.length, 'the file now holds the bases too');
    assert.equal(ours.pack.readUInt32BE(8), ours.objects, 'its object count is rewritten');
    assert.equal(ours.name, ours.pack.subarray(-20).toString('hex'), 'named by its new trailer');
    assert.ok(ours.idx.equals(await gitIndex(root, ours.pack, 'fixed')), '.idx differs from git index-pack of the fixed pack');
    // Native git accepts the result as a complete pack.
    await runGit(['verify-pack', join(root, 'fixed.idx')], { cwd: root });
  });
});

/** A few MiB that do not compress, from a seed. */
const noise = (mib: number, seed: string) => Buffer.concat(Array.from({ length: mib * 1024 * 32 }, (_, i) => createHash('sha256').update(`${seed}${i}`).digest()));

describe('pack indexing from the file, in pieces', () => {
  test('objects larger than one read, and deltas of them, index byte for byte as git index-pack does', async (t) => {
    const root = await tmpRoot(t);
    const repo = await createRepo(root, 'app.git');
    const text = Buffer.from(Array.from({ length: 60_000 }, (_, i) => `line ${i} of a large text file\n`).join(''));
    const first = await repo.commit({ 'big.bin': noise(3, 'a'), 'big.txt': text, 'small': 'x\n' }, 'one');
    text.write('changed!', 1_000_000);
    const second = await repo.commit({ 'big.bin': Buffer.concat([noise(3, 'a'), Buffer.from('tail')]), 'big.txt': text }, 'two');
    await repo.push();
    const pack = await gitPack(repo, root, 'big', ['--delta-base-offset', '--window=10'], `${second}\n${first}\n`);
    const path = join(root, 'copy.pack');
    await writeFile(path, pack);
    const ours = await indexPackFile(path);
    assert.ok(ours.idx.equals(await gitIndex(root, pack, 'check-big')), '.idx differs from git index-pack');
    assert.ok((await readFile(path)).equals(pack), 'a self-contained pack file is left as it came');
    const verify = await runGit(['verify-pack', '-v', join(root, 'check-big.idx')], { cwd: root });
    assert.match(verify, /chain length = [1-9]/, 'the large objects are stored as deltas too');
  });

  test('a zlib stream longer than its object\'s usual bound is read in pieces and indexes as git does', async (t) => {
    const root = await tmpRoot(t);
    const content = Buffer.from('a small blob, padded by its encoder with empty blocks\n');
    // 2,000 empty stored blocks, then one final stored block holding the content, then Adler-32.
    const empty = Buffer.alloc(2000 * 5);
    for (let i = 0; i < 2000; i++) empty.writeUInt32BE(0x0000ffff, i * 5 + 1);
    const last = Buffer.alloc(5);
    last[0] = 1;
    last.writeUInt16LE(content.length, 1);
    last.writeUInt16LE(~content.length & 0xffff, 3);
    const stream = Buffer.concat([Buffer.from([0x78, 0x01]), empty, last, content, adler32(content)]);
    const pack = packOf([Buffer.concat([objectHeader(3, content.length), stream]), whole(3, Buffer.from('next\n'))]);
    const path = join(root, 'padded.pack');
    await writeFile(path, pack);
    const ours = await indexPackFile(path);
    assert.equal(ours.objects, 2);
    assert.ok(ours.idx.equals(await gitIndex(root, pack, 'check-padded')), '.idx differs from git index-pack');
  });

  const big = noise(2, 'p');
  const problems: [string, () => Buffer, RegExp][] = [
    ['a large object longer than it declares', () => packOf([Buffer.concat([objectHeader(3, big.length - 1), deflateSync(big)])]), /inflates to more than/],
    ['a large object shorter than it declares', () => packOf([Buffer.concat([objectHeader(3, big.length + 1), deflateSync(big)])]), /inflates to \d+ bytes, not the/],
    ['a large object cut short', () => packOf([Buffer.concat([objectHeader(3, big.length), deflateSync(big).subarray(0, big.length / 2)])]), /does not inflate/],
  ];
  for (const [name, make, message] of problems) {
    test(`${name} is a PackProblem`, async (t) => {
      const path = join(await tmpRoot(t), 'bad.pack');
      await writeFile(path, make());
      await assert.rejects(indexPackFile(path), (e) => e instanceof PackProblem && message.test(e.message));
    });
  }
});

function adler32(bytes: Buffer): Buffer {
  let a = 1;
  let b = 0;
  for (const c of bytes) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE(((b << 16) | a) >>> 0);
  return out;
}

/** A pack of `raw` entries with a correct header count and trailer: only what is inside is wrong. */
function packOf(raws: Buffer[], count = raws.length): Buffer {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(count, 8);
  const body = Buffer.concat([header, ...raws]);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

const whole = (type: number, content: Buffer) => Buffer.concat([objectHeader(type, content.length), deflateSync(content)]);

describe('pack indexing: nothing from the server is trusted', () => {
  const blob = Buffer.from('hello\n');
  const problems: [string, () => Buffer, RegExp][] = [
    ['not a pack', () => Buffer.from('<html>not a pack</html>........................'), /does not start as a pack/],
    ['a wrong checksum', () => { const p = packOf([whole(3, blob)]); p[p.length - 1]! ^= 1; return p; }, /checksum/],
    ['truncated', () => packOf([whole(3, blob)]).subarray(0, 30), /checksum|does not start/],
    ['more objects announced than held', () => packOf([whole(3, blob)], 1000), /announces 1000 objects/],
    ['a size that lies', () => packOf([Buffer.concat([objectHeader(3, 3), deflateSync(blob)])]), /inflates to|does not inflate/],
    ['a huge declared size', () => packOf([Buffer.concat([objectHeader(3, 2 ** 40), deflateSync(blob)])]), /more than mfd can hold/],
    ['an unknown type', () => packOf([Buffer.concat([objectHeader(5, 6), deflateSync(blob)])]), /unknown type 5/],
    ['bytes that do not inflate', () => packOf([Buffer.concat([objectHeader(3, 6), Buffer.from('garbage!')])]), /does not inflate/],
    ['an ofs delta pointing nowhere', () => packOf([whole(3, blob), Buffer.concat([objectHeader(6, 4), Buffer.from([3]), deflateSync(Buffer.from([6, 6, 0x90, 6]))])]), /no object starts|outside/],
    ['a delta copying past its base', () => {
      const first = whole(3, blob);
      const delta = Buffer.from([6, 10, 0x91, 2, 10]); // copy 10 bytes from offset 2 of a 6-byte base
      return packOf([first, Buffer.concat([objectHeader(6, delta.length), Buffer.from([first.length]), deflateSync(delta)])]);
    }, /delta at \d+ is invalid: it copies/],
    ['trailing bytes after the last object', () => packOf([whole(3, blob), Buffer.from('junk')], 1), /4 bytes follow its last object/],
  ];
  for (const [name, make, message] of problems) {
    test(`${name} is a PackProblem`, async (t) => {
      await assert.rejects(indexBytes(await tmpRoot(t), make()), (e) => e instanceof PackProblem && message.test(e.message));
    });
  }

  test('a delta is checked before it allocates', () => {
    const base = Buffer.from('abc');
    assert.throws(() => applyDelta(base, Buffer.from([3, 0xff, 0xff, 0xff, 0x7f, 0x91, 0, 1]), 2 ** 32), DeltaError);
    assert.throws(() => applyDelta(base, Buffer.from([4, 3, 0x91, 0, 3]), 100), /base of 4 bytes/);
    assert.throws(() => applyDelta(base, Buffer.from([3, 3, 0]), 100), /reserved op/);
    assert.throws(() => applyDelta(base, Buffer.from([3, 3, 5, 1]), 100), /insert runs past/);
    assert.deepEqual(applyDelta(base, Buffer.from([3, 5, 0x91, 1, 2, 3, 0x78, 0x79, 0x7a]), 100), Buffer.from('bcxyz'));
  });
});
