// sys/files.ts: its functions give what node:fs/promises gives, and its readFile cannot hang on
// what is not a regular file.
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import * as files from '../../src/sys/files.ts';
import { tmpRoot } from '../helpers/repo.ts';

test('each function answers as node:fs/promises does, values and errors alike', async (t) => {
  const root = await tmpRoot(t);
  const dir = join(root, 'a', 'b');
  assert.equal(await files.mkdir(dir, { recursive: true }), join(root, 'a'));
  await fsp.writeFile(join(dir, 'f.txt'), 'text\n');
  await files.symlink('f.txt', join(dir, 'link'));
  assert.equal(await files.readFile(join(dir, 'f.txt'), 'utf8'), 'text\n');
  assert.deepEqual(await files.readFile(join(dir, 'f.txt')), Buffer.from('text\n'));
  assert.deepEqual((await files.readdir(dir, { withFileTypes: true })).map((d) => [d.name, d.isSymbolicLink()]).sort(), [['f.txt', false], ['link', true]]);
  assert.equal(await files.readlink(join(dir, 'link')), 'f.txt');
  assert.ok((await files.lstat(join(dir, 'link'))).isSymbolicLink());
  assert.ok((await files.stat(join(dir, 'link'))).isFile());
  assert.ok((await files.statfs(root)).bavail >= 0);
  await files.lchown(join(dir, 'link'), process.getuid!(), process.getgid!());
  await files.chmod(join(dir, 'f.txt'), 0o600);
  assert.equal((await fsp.stat(join(dir, 'f.txt'))).mode & 0o777, 0o600);
  await files.utimes(join(dir, 'f.txt'), 1_000_000, 1_000_000);
  assert.equal((await fsp.stat(join(dir, 'f.txt'))).mtimeMs, 1_000_000_000);
  await files.cp(dir, join(root, 'copy'), { recursive: true, verbatimSymlinks: true });
  assert.equal(await fsp.readlink(join(root, 'copy', 'link')), 'f.txt');
  await files.rename(join(root, 'copy'), join(root, 'moved'));
  await files.link(join(root, 'moved', 'f.txt'), join(root, 'moved', 'g.txt'));
  assert.equal((await fsp.stat(join(root, 'moved', 'f.txt'))).nlink, 2);
  assert.equal(((await files.link(join(root, 'moved', 'f.txt'), join(root, 'moved', 'g.txt')).catch((e: NodeJS.ErrnoException) => e)) as NodeJS.ErrnoException).code, 'EEXIST', 'a link never replaces');
  const handle = await files.open(join(root, 'moved', 'f.txt'), 'r');
  try {
    assert.equal((await handle.readFile('utf8')), 'text\n');
  } finally {
    await handle.close();
  }
  await files.rm(join(root, 'moved'), { recursive: true });
  const missing = await files.readFile(join(root, 'moved', 'f.txt')).catch((e: NodeJS.ErrnoException) => e);
  const native = await fsp.readFile(join(root, 'moved', 'f.txt')).catch((e: NodeJS.ErrnoException) => e);
  assert.ok(missing instanceof Error && native instanceof Error);
  assert.deepEqual([missing.code, missing.syscall, missing.path], [native.code, native.syscall, native.path]);
});

test('readFile refuses a FIFO or a device at once instead of waiting on it, and a directory as readFile does', { timeout: 20_000 }, async (t) => {
  const root = await tmpRoot(t);
  const fifo = join(root, 'record.json');
  execFileSync('mkfifo', [fifo]);
  // No writer ever opens it: a blocking open would wait for one for ever (the timeout fails the test).
  for (const path of [fifo, '/dev/zero']) {
    const error = await files.readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => e);
    assert.ok(error instanceof Error, path);
    assert.deepEqual([error.code, error.syscall, error.path], ['EINVAL', 'read', path]);
    assert.match(error.message, /not a regular file/);
  }
  const ours = await files.readFile(root).catch((e: NodeJS.ErrnoException) => e);
  const native = await fsp.readFile(root).catch((e: NodeJS.ErrnoException) => e);
  assert.ok(ours instanceof Error && native instanceof Error);
  assert.deepEqual([ours.code, ours.syscall], [native.code, native.syscall]);
  // A /proc file is a regular file of size 0 that still has content.
  assert.match(await files.readFile('/proc/self/stat', 'utf8'), /^\d+ \(/);
});

test('the calls that only look settle without the thread pool, as rejections where node:fs/promises rejects', async (t) => {
  const root = await tmpRoot(t);
  for (const call of [() => files.stat(join(root, 'x')), () => files.lstat(join(root, 'x')), () => files.readlink(root), () => files.readdir(join(root, 'x'))]) {
    const promise = call();
    assert.ok(promise instanceof Promise);
    await assert.rejects(promise, (e: NodeJS.ErrnoException) => e.code === 'ENOENT' || e.code === 'EINVAL');
  }
});
