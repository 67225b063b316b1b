import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listPackOids } from '../../src/git/pack.ts';
import { writePack } from '../helpers/pack.ts';
import { blobId } from '../../src/git/checkout.ts';
import { tmpRoot } from '../helpers/repo.ts';

const git = (args: string[], cwd: string, input?: Buffer) =>
  execFileSync('git', args, { cwd, input, encoding: 'buffer', env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1' } });

describe('pack', () => {
  test('writePack writes a pack that git itself indexes and reads back, and listPackOids reads its index', async (t) => {
    const repo = join(await tmpRoot(t), 'repo.git');
    git(['init', '-q', '--bare', repo], process.cwd());
    // Sizes around every header boundary: 4 bits, then 7 more per byte.
    const blobs = [0, 1, 15, 16, 2047, 2048, 300_000].map((n) => Buffer.from('x'.repeat(n).split('').map((_, i) => String.fromCharCode(97 + (i % 26))).join('')));
    const tree = Buffer.concat([Buffer.from('100644 a.txt\0'), Buffer.from(blobId(blobs[3]!), 'hex')]);
    const { name, data } = writePack([...blobs.map((content) => ({ type: 'blob' as const, content })), { type: 'tree', content: tree }]);
    assert.match(name, /^pack-[0-9a-f]{40}\.pack$/);
    const pack = join(repo, 'objects', 'pack', name);
    await mkdir(join(repo, 'objects', 'pack'), { recursive: true });
    await writeFile(pack, data);
    git(['index-pack', pack], repo);
    git(['verify-pack', pack.replace(/\.pack$/, '.idx')], repo);
    for (const content of blobs) assert.deepEqual(git(['cat-file', 'blob', blobId(content)], repo), content);
    const treeId = git(['hash-object', '-t', 'tree', '--stdin'], repo, tree).toString().trim();
    assert.equal(git(['cat-file', '-t', treeId], repo).toString().trim(), 'tree');
    const oids = listPackOids(await readFile(pack.replace(/\.pack$/, '.idx')));
    assert.deepEqual(oids, [...new Set([...blobs.map(blobId), treeId])].sort());
  });

  test('listPackOids refuses what is not a version 2 index', () => {
    assert.throws(() => listPackOids(Buffer.alloc(2000)), /not a version 2 pack index/);
  });
});
