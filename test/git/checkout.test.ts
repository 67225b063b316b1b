import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { blobId, writeTree } from '../../src/git/checkout.ts';
import { TreeInvalidError } from '../../src/errors/index.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { memoryStore, rawTree, type RawEntry } from '../helpers/tree.ts';

describe('checkout', () => {
  test('writes files, exec bits, symlinks and nested directories, and submodules as empty directories', async (t) => {
    const dir = await tmpRoot(t);
    const store = memoryStore();
    const lib = store.put('tree', rawTree([['100644', 'a.txt', store.put('blob', 'a\n')]]));
    const root = store.put('tree', rawTree([
      ['40000', 'lib', lib],
      ['120000', 'link', store.put('blob', 'lib/a.txt')],
      ['100755', 'run', store.put('blob', '#!/bin/sh\n')],
      ['160000', 'vendor', 'c'.repeat(40)],
    ]));
    const stats = await writeTree(store, root, dir);
    assert.equal((await stat(join(dir, 'run'))).mode & 0o111, 0o111 & ~process.umask());
    assert.equal(await readlink(join(dir, 'link')), 'lib/a.txt');
    assert.equal(await readFile(join(dir, 'link'), 'utf8'), 'a\n');
    assert.deepEqual(await readdir(join(dir, 'vendor')), []);
    assert.deepEqual(stats, { files: 3, reused: 0, submodules: ['vendor'], lfsPointers: [] });
  });

  test('a large tree gives the event loop turns while it is written, so timers and signals are not held', async (t) => {
    const dir = await tmpRoot(t);
    const store = memoryStore();
    const files = Array.from({ length: 2_000 }, (_, i) => ['100644', `f${String(i).padStart(4, '0')}`, store.put('blob', `${i}\n`)] as RawEntry);
    const root = store.put('tree', rawTree(files));
    // Counts the loop's turns that come while the tree is being written.
    let turns = 0;
    let writing = true;
    const count = () => {
      if (!writing) return;
      turns++;
      setImmediate(count);
    };
    setImmediate(count);
    await writeTree(store, root, dir);
    writing = false;
    assert.equal((await readdir(dir)).length, 2_000);
    assert.ok(turns >= 2_000 / 256 - 1, `${turns} turns of the event loop during the checkout`);
  });

  test('.gitattributes has no say, unlike in git archive: export-ignore files are written, export-subst is not expanded', async (t) => {
    const dir = await tmpRoot(t);
    const store = memoryStore();
    const root = store.put('tree', rawTree([
      ['100644', '.gitattributes', store.put('blob', 'config/local.json export-ignore\nversion.txt export-subst\n')],
      ['40000', 'config', store.put('tree', rawTree([['100644', 'local.json', store.put('blob', '{}\n')]]))],
      ['100644', 'version.txt', store.put('blob', '$Format:%H$\n')],
    ]));
    await writeTree(store, root, dir);
    assert.equal(await readFile(join(dir, 'config', 'local.json'), 'utf8'), '{}\n');
    assert.equal(await readFile(join(dir, 'version.txt'), 'utf8'), '$Format:%H$\n');
  });

  test('old modes 100664 and 100700 are files, executable as git checks them out', async (t) => {
    const dir = await tmpRoot(t);
    const store = memoryStore();
    const b = store.put('blob', 'x\n');
    await writeTree(store, store.put('tree', rawTree([['100664', 'shared', b], ['100700', 'tool', b]])), dir);
    assert.equal((await stat(join(dir, 'shared'))).mode & 0o111, 0);
    assert.equal((await stat(join(dir, 'tool'))).mode & 0o100, 0o100);
  });

  test('counts Git LFS pointer files by their first line', async (t) => {
    const dir = await tmpRoot(t);
    const store = memoryStore();
    const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:' + 'a'.repeat(64) + '\nsize 12345\n';
    const assets = store.put('tree', rawTree([['100644', 'big.bin', store.put('blob', pointer)]]));
    const root = store.put('tree', rawTree([['40000', 'assets', assets], ['100644', 'notes.txt', store.put('blob', 'version 1\n')]]));
    assert.deepEqual((await writeTree(store, root, dir)).lfsPointers, ['assets/big.bin']);
    assert.equal(await readFile(join(dir, 'assets/big.bin'), 'utf8'), pointer);
  });

  test('a link and a file of one name: refused before anything is written, the link target untouched', async (t) => {
    const tmp = await tmpRoot(t);
    const [dir, outside] = [join(tmp, 'dir'), join(tmp, 'outside')];
    await mkdir(dir);
    await writeFile(outside, 'precious\n');
    const store = memoryStore();
    const lib = store.put('tree', rawTree([['100644', 'ok', store.put('blob', 'ok\n')], ['120000', 'a', store.put('blob', outside)], ['100755', 'a', store.put('blob', 'pwned\n')]]));
    const root = store.put('tree', rawTree([['40000', 'lib', lib]]));
    const error = await writeTree(store, root, dir, { commit: 'f'.repeat(40) }).catch((e: unknown) => e);
    assert.ok(error instanceof TreeInvalidError, String(error));
    assert.equal(error.sha, 'f'.repeat(40));
    assert.equal(error.path, 'lib/a');
    assert.equal(error.rule, 'duplicateEntries');
    assert.deepEqual(await readdir(dir), []);
    assert.equal(await readFile(outside, 'utf8'), 'precious\n');
  });

  test('an entry whose object has another type is refused', async (t) => {
    const dir = await tmpRoot(t);
    const store = memoryStore();
    const blob = store.put('blob', 'x');
    const error = await writeTree(store, store.put('tree', rawTree([['40000', 'lib', blob]])), dir).catch((e: unknown) => e);
    assert.ok(error instanceof TreeInvalidError && error.rule === 'wrongType' && error.path === 'lib', String(error));
  });

  test('refuses to write into a directory that is not empty', async (t) => {
    const dir = await tmpRoot(t);
    await writeFile(join(dir, 'x'), '');
    const store = memoryStore();
    await assert.rejects(writeTree(store, store.put('tree', rawTree([])), dir), /not empty/);
  });

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
      edited: 'original\n', fifo: 'a fifo\n', gone: 'was deleted\n', linked: 'secret\n', same: 'unchanged\n', tool: '#!/bin/sh\n', nested: 'n\n',
    };
    const store = memoryStore();
    const oid = (k: string) => store.put('blob', content[k]!);
    const lib = store.put('tree', rawTree([['100644', 'nested', oid('nested')]]));
    const tree = store.put('tree', rawTree([
      ...['edited', 'fifo', 'gone'].map((k) => ['100644', k, oid(k)] as [string, string, string]),
      ['40000', 'lib', lib],
      ['100644', 'linked', oid('linked')],
      ['100644', 'same', oid('same')],
      ['100755', 'tool', oid('tool')],
    ]));
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

    const before = store.reads.length;
    const stats = await writeTree(store, tree, dir, { reuseFrom: earlier });
    for (const [k, v] of Object.entries(content)) assert.equal(await readFile(join(dir, k === 'nested' ? 'lib/nested' : k), 'utf8'), v, k);
    assert.equal((await stat(join(dir, 'tool'))).mode & 0o100, 0o100, 'the mode comes from the tree, not the earlier file');
    assert.deepEqual(stats, { files: 7, reused: 3, submodules: [], lfsPointers: [] });
    const blobsRead = store.reads.slice(before).filter((o) => o !== tree && o !== lib);
    assert.deepEqual(blobsRead.sort(), ['edited', 'fifo', 'gone', 'linked'].map(oid).sort());
  });
});
