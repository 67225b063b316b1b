import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, dirname, join } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { parseConfig } from '../../src/config/config.ts';
import { ConfigInvalidError } from '../../src/errors/index.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { appLock, cacheLock, hostLock, hostLockDir, hostLockOfFile, lockOf, parseLockName, resourceLock } from '../../src/lock/names.ts';
import { layoutOf } from '../../src/state/layout.ts';

const layout = layoutOf('/srv/app', 4242);
const dir = '/run/lock/mfd';

describe('lock names', () => {
  test('each lock has its name and its file', () => {
    assert.deepEqual(appLock(layout), { name: 'app', file: layout.lockFile });
    assert.deepEqual(cacheLock(layout), { name: 'cache', file: layout.cacheLockFile });
    assert.deepEqual(hostLock(dir), { name: 'host', file: join(dir, 'host.lock') });
    assert.deepEqual(resourceLock(dir, 'postgres'), { name: 'resource:postgres', file: join(dir, 'resource-postgres.lock') });
  });

  test('a host-wide lock is found again from its file name, and no other file is a lock', () => {
    for (const spec of [hostLock(dir), resourceLock(dir, 'postgres'), resourceLock(dir, 'a.b_c-1'), resourceLock(dir, 'host')]) {
      assert.equal(dirname(spec.file), dir);
      assert.deepEqual(hostLockOfFile(dir, basename(spec.file)), spec);
    }
    for (const file of ['host.lock.guard', 'resource-postgres.lock.guard', 'resource-.lock', 'resource-a b.lock', 'other.lock', 'marks', '.mfd-deploy.lock']) {
      assert.equal(hostLockOfFile(dir, file), undefined, file);
    }
  });

  test('every lock name the user is shown reads back as the same lock', () => {
    for (const spec of [appLock(layout), cacheLock(layout), hostLock(dir), resourceLock(dir, 'postgres'), resourceLock(dir, 'app')]) {
      const name = parseLockName(spec.name);
      assert.ok(name, spec.name);
      assert.deepEqual(lockOf(name, layout, dir), spec);
    }
    // A bare resource name is the resource; the three words are the app's and the host's own.
    assert.deepEqual(parseLockName('postgres'), { kind: 'resource', resource: 'postgres' });
    assert.deepEqual(['app', 'cache', 'host'].map((t) => parseLockName(t)?.kind), ['app', 'cache', 'host']);
  });

  test('a typed name no resource could have is no lock, so it never becomes a path', () => {
    for (const text of ['', 'resource:', '../etc/passwd', 'a/b', 'resource:../x', 'two words']) {
      assert.equal(parseLockName(text), undefined, text);
    }
  });

  test('a resource name too long for its lock files is a config error naming the key, not a failed deploy', async (t) => {
    const tmp = await tmpRoot(t);
    const configWith = (name: string) => `[repo]\nurl = "http://127.0.0.1:1/a.git"\n[build]\ncommands = []\n[lock]\nresources = ["${name}"]\n`;
    const longest = 'r'.repeat(235);
    const { config } = parseConfig(configWith(longest), { file: join(tmp, 'mfd.toml') });
    // The longest name a config accepts still names files the file system can hold: the lock and its guard.
    const spec = resourceLock(tmp, config.lock.resources[0]!);
    await writeFile(spec.file, '');
    await mkdir(`${spec.file}.guard`);
    assert.deepEqual(parseLockName(longest), { kind: 'resource', resource: longest });
    const err = (() => { try { parseConfig(configWith(`${longest}r`), { file: join(tmp, 'mfd.toml') }); } catch (e) { return e; } })();
    assert.ok(err instanceof ConfigInvalidError, String(err));
    assert.equal(err.exitCode, 2);
    assert.deepEqual(err.issues.map((i) => i.path), ['lock.resources.0']);
    assert.match(err.issues[0]!.message, /^expected letters, digits, ".", "_" and "-" only, at most 235 of them \(the name is part of its lock file's name\), got "r+/);
  });

  test('the host lock dir is [lock] dir when set', () => {
    const { config } = parseConfig(`[repo]\nurl = "http://127.0.0.1:1/a.git"\n[build]\ncommands = []\n[lock]\ndir = "/x/locks"\n`, { file: '/srv/app/mfd.toml' });
    assert.equal(hostLockDir(config.lock), '/x/locks');
  });
});
