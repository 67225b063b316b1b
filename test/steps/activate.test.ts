import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpRoot } from '../helpers/repo.ts';
import { activate, readActive, removeStaleActiveTmp } from '../../src/steps/activate.ts';
import { layoutOf } from '../../src/state/layout.ts';


describe('activate', () => {
  test('points active at the deployment with a relative target and leaves no temporary link', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.deployment('mfd_1_a'));
    await activate(layout, 'mfd_1_a');
    assert.equal(await readlink(layout.active), 'mfd_1_a');
    assert.equal(await readActive(layout), 'mfd_1_a');
    assert.deepEqual((await readdir(layout.root)).sort(), ['active', 'mfd_1_a']);
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

  test('temporary links left by a killed activation are removed', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await symlink('mfd_1_a', join(layout.root, '.active.tmp-999999'));
    assert.deepEqual(await removeStaleActiveTmp(layout), ['.active.tmp-999999']);
    assert.deepEqual(await readdir(layout.root), []);
  });
});
