import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { appFixture } from '../helpers/app.ts';
import { mfd } from '../helpers/cli.ts';
import { tmpRoot } from '../helpers/repo.ts';

const PACKAGE = fileURLToPath(new URL('../../scripts/package.mjs', import.meta.url));

describe('single executable (e2e)', () => {
  test('npm run package builds one binary that deploys, lists and rolls back with nothing beside it', async (t) => {
    const dir = await tmpRoot(t);
    const bin = join(dir, 'mfd');
    await promisify(execFile)(process.execPath, [PACKAGE, '--out', bin]);
    assert.deepEqual(await readdir(dir), ['mfd'], 'no node_modules, no script: just the binary');
    assert.match((await mfd(['--version'], { bin, cwd: dir })).stdout, /^mfd \d+\.\d+\.\d+/);

    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const two = await app.commitVersion(2);
    for (const sha of [one, two]) {
      const r = await mfd(['deploy', sha.slice(0, 10)], { bin, cwd: app.root });
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await mfd(['ls'], { bin, cwd: app.root })).stdout, `${two} (active)\n${one}\n`);
    assert.equal((await mfd(['rollback'], { bin, cwd: app.root })).code, 0);
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${one}$`));
    const bad = await mfd(['deploy', 'nope'], { bin, cwd: app.root });
    assert.equal(bad.code, 4);
    assert.doesNotMatch(bad.stderr, /ExperimentalWarning|single-executable/);
  });
});
