import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { MFD } from '../helpers/cli.ts';

// `mfd ls` and `mfd help` must not pay for isomorphic-git. esbuild keeps a dynamically imported
// module behind a lazy init function; this checks the built file keeps isomorphic-git there.
describe('bundle', () => {
  test('dist/mfd.cjs is one self-contained file that evaluates isomorphic-git only when git is needed', async () => {
    const bundle = await readFile(MFD, 'utf8');
    assert.doesNotMatch(bundle, /require\("(isomorphic-git|execa|smol-toml|zod|proper-lockfile)[/"]/, 'dependencies are bundled');
    const calls = [...bundle.matchAll(/require_isomorphic_git\(\)/g)].map((m) => m.index);
    assert.equal(calls.length, 1, 'isomorphic-git is required in exactly one place');
    const initGit = bundle.indexOf('var init_git = __esm({');
    assert.ok(initGit >= 0 && calls[0]! > initGit && calls[0]! - initGit < 1000, 'that place is the lazy init of src/git.ts');
    const gitInits = [...bundle.matchAll(/init_git\(\)/g)];
    assert.ok(gitInits.length > 0);
    for (const m of gitInits) {
      const before = bundle.slice(m.index! - 30, m.index!);
      assert.match(before, /Promise\.resolve\(\)\.then\(\(\) => \($/, 'src/git.ts is only reached through a dynamic import');
    }
  });
});
