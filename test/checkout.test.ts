import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { writeTree, type ObjectReader, type TreeEntry } from '../src/checkout.ts';
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
});
