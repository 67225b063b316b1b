import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { blobId, writeTree, type ObjectReader, type TreeEntry } from '../src/checkout.ts';
import { tmpRoot } from './helpers/repo.ts';

/** Trees and blobs held in memory, as a cache would serve them. */
function readerOf(trees: Record<string, TreeEntry[]>, blobs: Record<string, string>): ObjectReader {
  return {
    readTree: async (oid) => trees[oid] ?? assert.fail(`no tree ${oid}`),
    readBlob: async (oid) => Buffer.from(blobs[oid] ?? assert.fail(`no blob ${oid}`)),
  };
}

const blob = (path: string, oid: string, mode = '100644'): TreeEntry => ({ path, oid, mode, type: 'blob' });

describe('checkout', () => {
  test('writes files, exec bits, symlinks and nested directories, and skips submodules', async (t) => {
    const dir = await tmpRoot(t);
    const reader = readerOf(
      {
        root: [
          blob('run', 'b-run', '100755'),
          blob('link', 'b-link', '120000'),
          { path: 'lib', oid: 'lib', mode: '040000', type: 'tree' },
          { path: 'vendor', oid: 'c'.repeat(40), mode: '160000', type: 'commit' },
        ],
        lib: [blob('a.txt', 'b-a')],
      },
      { 'b-run': '#!/bin/sh\n', 'b-link': 'lib/a.txt', 'b-a': 'a\n' },
    );
    await writeTree(reader, 'root', dir);
    assert.equal((await stat(join(dir, 'run'))).mode & 0o111, 0o111 & ~process.umask());
    assert.equal(await readlink(join(dir, 'link')), 'lib/a.txt');
    assert.equal(await readFile(join(dir, 'link'), 'utf8'), 'a\n');
    assert.equal(existsSync(join(dir, 'vendor')), false);
  });

  for (const name of ['.git', '.GIT', '..', 'a/b']) {
    test(`refuses a tree entry named ${JSON.stringify(name)} before writing anything`, async (t) => {
      const dir = await tmpRoot(t);
      const reader = readerOf({ root: [blob('ok.txt', 'b'), blob(name, 'b')] }, { b: 'x' });
      await assert.rejects(writeTree(reader, 'root', dir), /unsafe path/);
      assert.equal(existsSync(join(dir, 'ok.txt')), false);
    });
  }

  test('blobId is git\'s own object id', async (t) => {
    const dir = await tmpRoot(t);
    await writeFile(join(dir, 'f'), 'hello\n');
    const git = execFileSync('git', ['hash-object', join(dir, 'f')], { encoding: 'utf8' }).trim();
    assert.equal(blobId(Buffer.from('hello\n')), git);
  });

  test('takes an unchanged file from an earlier checkout only when its bytes are the blob', async (t) => {
    const root = await tmpRoot(t);
    const [earlier, dir] = [join(root, 'earlier'), join(root, 'new')];
    const content: Record<string, string> = {
      same: 'unchanged\n', edited: 'original\n', gone: 'was deleted\n', linked: 'secret\n', fifo: 'a fifo\n', tool: '#!/bin/sh\n', nested: 'n\n',
    };
    const oid = (k: string) => blobId(Buffer.from(content[k]!));
    const blobs = Object.fromEntries(Object.keys(content).map((k) => [oid(k), content[k]!]));
    const read: string[] = [];
    const base = readerOf(
      {
        root: [
          ...['same', 'edited', 'gone', 'linked', 'fifo'].map((k) => blob(k, oid(k))),
          blob('tool', oid('tool'), '100755'),
          { path: 'lib', oid: 'lib', mode: '040000', type: 'tree' },
        ],
        lib: [blob('nested', oid('nested'))],
      },
      blobs,
    );
    const reader: ObjectReader = { readTree: base.readTree, readBlob: async (o) => (read.push(blobs[o]!), base.readBlob(o)) };
    // The earlier deployment, as a build and the app may have left it.
    await mkdir(join(earlier, 'lib'), { recursive: true });
    await writeFile(join(earlier, 'same'), content.same!);
    await writeFile(join(earlier, 'edited'), 'changed!\n'); // same size, other bytes
    await writeFile(join(root, 'outside'), content.linked!);
    await symlink(join(root, 'outside'), join(earlier, 'linked'));
    execFileSync('mkfifo', [join(earlier, 'fifo')]); // opening it blocking would hang the deploy
    await writeFile(join(earlier, 'tool'), content.tool!, { mode: 0o644 });
    await writeFile(join(earlier, 'lib', 'nested'), content.nested!);
    await mkdir(dir);

    const stats = await writeTree(reader, 'root', dir, { reuseFrom: earlier });
    for (const [k, v] of Object.entries(content)) assert.equal(await readFile(join(dir, k === 'nested' ? 'lib/nested' : k), 'utf8'), v, k);
    assert.equal((await stat(join(dir, 'tool'))).mode & 0o100, 0o100, 'the mode comes from the tree, not the earlier file');
    assert.deepEqual(stats, { files: 7, reused: 3 });
    assert.deepEqual(read.sort(), [content.edited, content.fifo, content.gone, content.linked].sort());
  });
});
