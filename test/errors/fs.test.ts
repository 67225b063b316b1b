import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, open, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DiskFullError, FsError, FsLayoutError, FsPermissionError, GitFetchError, rooted, toFsError } from '../../src/errors/index.ts';
import { tmpRoot } from '../helpers/repo.ts';

const errno = (code: string, syscall: string, path?: string) => Object.assign(new Error(`${code}: x, ${syscall}`), { code, syscall, ...(path ? { path } : {}) });

describe('fs-errors', () => {
  test('ENOSPC and EDQUOT are a full disk, exit 9, with the df command for the app root', () => {
    const e = toFsError(errno('ENOSPC', 'open', '/srv/app/.mfd/history.jsonl'), { root: '/srv/app' });
    assert.ok(e instanceof DiskFullError);
    assert.equal(e.code, 'DISK_FULL');
    assert.equal(e.exitCode, 9);
    assert.equal(e.message, 'cannot open /srv/app/.mfd/history.jsonl: no space left on device (ENOSPC)');
    assert.match(e.hint!, /df -h \/srv\/app;/);
    assert.ok(toFsError(errno('EDQUOT', 'write', '/srv/app/x')) instanceof DiskFullError);
  });

  test('EACCES names the path, the user mfd runs as and the chown of the top entry under the app root, exit 10', () => {
    const e = toFsError(errno('EACCES', 'mkdir', '/srv/app/.mfd/logs'), { root: '/srv/app' });
    assert.ok(e instanceof FsPermissionError);
    assert.equal(e.exitCode, 10);
    assert.equal(e.message, 'cannot create directory /srv/app/.mfd/logs: permission denied (EACCES)');
    // /srv/app/.mfd/logs does not exist: creating it needs .mfd, which is what to look at.
    assert.match(e.hint!, /ls -ld \/srv\/app\/\.mfd; .*sudo chown -R \S+ \/srv\/app\/\.mfd$/);
    assert.match(toFsError(errno('EROFS', 'open', '/srv/app/x'))!.hint!, /read-only/);
  });

  test('ENOTDIR names the component that is not a directory', async (t) => {
    const root = await tmpRoot(t);
    await writeFile(join(root, '.mfd'), 'x');
    const error = await readdir(join(root, '.mfd', 'deployments')).catch((e: unknown) => e);
    const e = toFsError(error);
    assert.ok(e instanceof FsLayoutError);
    assert.equal(e.message, `cannot read directory ${join(root, '.mfd', 'deployments')}: ${join(root, '.mfd')} is not a directory (ENOTDIR)`);
    assert.match(e.hint!, /mv \S+\.mfd \S+\.mfd\.bak/);
  });

  test("Node's ERR_FS_EISDIR SystemError maps by its errno, and a write on a handle takes the path given", async (t) => {
    const root = await tmpRoot(t);
    await mkdir(join(root, 'd'));
    const eisdir = await rm(join(root, 'd')).catch((e: unknown) => e);
    assert.ok(toFsError(eisdir) instanceof FsLayoutError);
    await writeFile(join(root, 'f'), '');
    const handle = await open(join(root, 'f'), 'r');
    const ebadf = await handle.writeFile('x').catch((e: unknown) => e);
    await handle.close();
    const e = toFsError(ebadf, { path: join(root, 'f'), op: 'write' });
    assert.ok(e instanceof FsError);
    assert.match(e.message, /^cannot write \S+\/f: bad file descriptor \(EBADF\)$/);
  });

  test('errors that are not of the file system are left alone', () => {
    assert.equal(toFsError(new TypeError('x')), undefined);
    assert.equal(toFsError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED', syscall: 'connect' })), undefined);
    assert.equal(toFsError(new GitFetchError('http://x', 'y')), undefined);
  });

  test('rooted() gives a hint naming the app root to an error made without it', () => {
    const e = rooted(toFsError(errno('ENOSPC', 'open', '/srv/app/.mfd/deployments/a.json'))!, '/srv/app');
    assert.match(e.hint!, /df -h \/srv\/app;/);
    assert.ok(e instanceof DiskFullError);
  });
});
