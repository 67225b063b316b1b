import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { claimDeployment } from '../../src/steps/claim.ts';
import { layoutOf } from '../../src/state/layout.ts';
import { writeRecord } from '../../src/state/record.ts';
import { tmpRoot } from '../helpers/repo.ts';

const sha = 'a'.repeat(40);
const record = (name: string) => ({ name, sha, ref: 'main', fingerprint: 'f', state: 'failed' as const, createdAt: '', updatedAt: '' });

describe('claim', () => {
  test('takes the first second whose name no directory, link, file or record holds, and leaves those alone', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.deployment(`mfd_100_${sha}`));
    await writeFile(layout.deployment(`mfd_101_${sha}`), 'a file\n');
    await symlink('/nonexistent', layout.deployment(`mfd_102_${sha}`));
    await writeRecord(layout, record(`mfd_103_${sha}`));
    const written: string[] = [];
    const name = await claimDeployment(layout, 100.7, sha, async (n) => {
      written.push(n);
      await writeRecord(layout, { ...record(n), state: 'building' });
    });
    assert.equal(name, `mfd_104_${sha}`);
    assert.deepEqual(written, [name], 'a record is written only for the name used');
    assert.ok((await stat(layout.deployment(name))).isDirectory());
    assert.equal(await readFile(layout.deployment(`mfd_101_${sha}`), 'utf8'), 'a file\n');
    assert.equal(JSON.parse(await readFile(layout.record(`mfd_103_${sha}`), 'utf8')).state, 'failed');
    assert.deepEqual((await readdir(layout.deployment(`mfd_100_${sha}`))), []);
  });
});
