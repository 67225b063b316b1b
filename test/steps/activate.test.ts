import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tmpRoot } from '../helpers/repo.ts';
import { activate, inspectActive, readActive, removeStaleActiveTmp } from '../../src/steps/activate.ts';
import { layoutOf } from '../../src/state/layout.ts';

const NAME = `mfd_1700000000_${'a'.repeat(40)}`;

describe('activate', () => {
  test('points active at the deployment with a relative target and leaves no temporary link', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.deployment(NAME));
    await activate(layout, NAME);
    assert.equal(await readlink(layout.active), NAME);
    assert.equal(await readActive(layout), NAME);
    assert.deepEqual((await readdir(layout.root)).sort(), ['active', NAME]);
  });

  test('replaces an existing active link by rename, so active exists at every moment', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.deployment('one'));
    await mkdir(layout.deployment('two'));
    await writeFile(join(layout.root, 'one', 'id'), 'one');
    await writeFile(join(layout.root, 'two', 'id'), 'two');
    await activate(layout, 'one');
    // Watch active continuously while swapping back and forth: it must never be missing.
    let missing = 0;
    let stop = false;
    const watcher = (async () => {
      const { readFile } = await import('node:fs/promises');
      while (!stop) await readFile(join(layout.active, 'id')).catch(() => missing++);
    })();
    for (let i = 0; i < 200; i++) await activate(layout, i % 2 ? 'one' : 'two');
    stop = true;
    await watcher;
    assert.equal(missing, 0);
  });

  test('refuses to replace an active that is a real directory', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.active);
    await assert.rejects(activate(layout, 'mfd_1_a'), { code: 'ACTIVATE_FAILED', message: /not a symlink/ });
  });

  test('readActive is undefined when there is no active yet', async (t) => {
    assert.equal(await readActive(layoutOf(await tmpRoot(t), process.pid)), undefined);
  });

  test('a link to anything but a deployment of this app root is foreign, even when its basename is one of ours', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.deployment(NAME));
    // A deployment of another app root with the same name, and places that are no deployment at all.
    const elsewhere = join(dirname(layout.root), 'other', NAME);
    for (const target of ['/etc', elsewhere, `../other/${NAME}`, `./${NAME}`, `${NAME}/`, 'mfd_1_a', '.mfd']) {
      await rm(layout.active, { force: true });
      await symlink(target, layout.active);
      const warnings: string[] = [];
      assert.equal(await readActive(layout, (m, h) => warnings.push(`${m} | ${h}`)), undefined, target);
      assert.deepEqual(await inspectActive(layout), { kind: 'foreign', target });
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0]!.startsWith(`active points at ${JSON.stringify(target)}, which is not a deployment of this app root`), warnings[0]);
      assert.match(warnings[0]!, /\| .*mfd deploy <ref>/);
    }
  });

  test('a link to a deployment by its name, or by its absolute path in this root, names it', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await symlink(layout.deployment(NAME), layout.active);
    assert.equal(await readActive(layout, () => assert.fail('no warning')), NAME);
    await rm(layout.active);
    await symlink(NAME, layout.active);
    assert.deepEqual(await inspectActive(layout), { kind: 'deployment', name: NAME });
  });

  test('temporary links left by a killed activation are removed', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await symlink('mfd_1_a', join(layout.root, '.active.tmp-999999'));
    assert.deepEqual(await removeStaleActiveTmp(layout), ['.active.tmp-999999']);
    assert.deepEqual(await readdir(layout.root), []);
  });
});
