import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DiskFullError, EXIT, FsPermissionError, GitAuthError, GitCacheError, GitFetchError } from '../../src/errors/index.ts';
import { authCallbacks, connect, redactUrl, requestThinPack, toGitError } from '../../src/git/transport.ts';

const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
const text = (body: Uint8Array) => Buffer.from(body).toString('latin1');

describe('transport', () => {
  test('a token becomes basic auth for user "mfd" and the URL keeps no credentials', () => {
    const conn = connect({ url: 'https://git.example.com/app.git', auth: { kind: 'token', token: 't0k' } });
    assert.deepEqual({ url: conn.url, credentials: conn.credentials }, { url: 'https://git.example.com/app.git', credentials: { username: 'mfd', password: 't0k' } });
    const { onAuth, onAuthFailure } = authCallbacks(conn);
    assert.deepEqual(onAuth?.(), { username: 'mfd', password: 't0k' });
    assert.deepEqual(onAuthFailure(), { cancel: true });
  });

  test('credentials in the URL are decoded into basic auth unless the config gives its own', () => {
    const url = 'https://al%40ice:p%3Ass@git.example.com/app.git';
    assert.deepEqual(connect({ url, auth: { kind: 'none' } }).credentials, { username: 'al@ice', password: 'p:ss' });
    const bob = connect({ url, auth: { kind: 'basic', username: 'bob', password: 'pw' } });
    assert.deepEqual({ url: bob.url, credentials: bob.credentials }, {
      url: 'https://git.example.com/app.git',
      credentials: { username: 'bob', password: 'pw' },
    });
    assert.equal(authCallbacks(connect({ url: redactUrl(url), auth: { kind: 'none' } })).onAuth, undefined);
  });

  test('HTTP 401 and 403 are auth errors; other statuses and socket errors are fetch errors with the reason', () => {
    const http = (statusCode: number) => Object.assign(new Error('HTTP Error'), { code: 'HttpError', data: { statusCode, statusMessage: 'Nope' } });
    assert.ok(toGitError(http(403), 'https://h/r') instanceof GitAuthError);
    assert.ok(toGitError(Object.assign(new Error('canceled'), { code: 'UserCanceledError' }), 'https://h/r') instanceof GitAuthError);
    const notFound = toGitError(http(404), 'https://h/r');
    assert.ok(notFound instanceof GitFetchError);
    assert.equal(notFound.message, 'cannot reach https://h/r: HTTP 404 Nope');
    const refused = toGitError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'https://h/r');
    assert.equal(refused.message, 'cannot reach https://h/r: connection refused (ECONNREFUSED)');
  });

  test('failures on this side (a file of the cache, iso-git tripping over one) are cache errors, not the remote\'s', () => {
    const notDir = Object.assign(new Error("ENOTDIR: not a directory, open '/srv/app/.mfd/repo.git/refs/heads/x'"), {
      code: 'ENOTDIR', syscall: 'open', path: '/srv/app/.mfd/repo.git/refs/heads/x',
    });
    for (const error of [notDir, new TypeError("Cannot read properties of undefined (reading 'error')")]) {
      const mapped = toGitError(error, 'https://h/r');
      assert.ok(mapped instanceof GitCacheError, String(error));
      assert.equal(mapped.message, `cannot use the git cache .mfd/repo.git: ${error.message}`);
      assert.equal(mapped.exitCode, EXIT.git);
      assert.match(mapped.hint ?? '', /remove \.mfd\/repo\.git/);
    }
    // An error of iso-git's own about what the server sent stays the remote's.
    assert.ok(toGitError(Object.assign(new Error('bad packet'), { code: 'ParseError' }), 'https://h/r') instanceof GitFetchError);
  });

  test('a cache file mfd may not write (left owned by root by a sudo run) is FS_PERMISSION, exit 10, with the chown hint', () => {
    for (const code of ['EACCES', 'EPERM', 'EROFS']) {
      const denied = Object.assign(new Error(`${code}: permission denied, open '/srv/app/.mfd/repo.git/HEAD'`), {
        code, syscall: 'open', path: '/srv/app/.mfd/repo.git/HEAD',
      });
      const mapped = toGitError(denied, 'https://h/r');
      assert.ok(mapped instanceof FsPermissionError, String(mapped));
      assert.equal(mapped.exitCode, EXIT.fs);
      assert.match(mapped.message, /\/srv\/app\/\.mfd\/repo\.git\/HEAD/);
      assert.match(mapped.hint ?? '', code === 'EROFS' ? /read-only/ : /chown/);
    }
  });

  test('a full disk while writing the cache is DISK_FULL, exit 9, not a cache error', () => {
    const full = Object.assign(new Error("ENOSPC: no space left on device, open '/srv/app/.mfd/repo.git/objects/pack/p.pack'"), {
      code: 'ENOSPC', syscall: 'open', path: '/srv/app/.mfd/repo.git/objects/pack/p.pack',
    });
    const mapped = toGitError(full, 'https://h/r');
    assert.ok(mapped instanceof DiskFullError, String(mapped));
    assert.equal(mapped.exitCode, 9);
    assert.equal(mapped.message, 'cannot open /srv/app/.mfd/repo.git/objects/pack/p.pack: no space left on device (ENOSPC)');
  });

  test('requestThinPack adds thin-pack to the first want line and fixes its length', () => {
    const rest = `${pkt('deepen 1\n')}0000${pkt('have 2222\n')}${pkt('done\n')}`;
    const body = Buffer.from(`${pkt('want 1111 multi_ack_detailed ofs-delta agent=x\n')}${rest}`, 'latin1');
    const patched = requestThinPack(body);
    assert.equal(text(patched), `${pkt('want 1111 multi_ack_detailed ofs-delta agent=x thin-pack\n')}${rest}`);
    assert.equal(text(requestThinPack(patched)), text(patched));
  });

  test('requestThinPack leaves protocol v2 commands and odd bodies alone', () => {
    const lsRefs = Buffer.from(`${pkt('command=ls-refs\n')}0001${pkt('symrefs\n')}0000`, 'latin1');
    assert.equal(requestThinPack(lsRefs), lsRefs);
    const junk = Buffer.from('zz', 'latin1');
    assert.equal(requestThinPack(junk), junk);
  });
});
