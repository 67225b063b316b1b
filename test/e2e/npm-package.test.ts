import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { tmpRoot } from '../helpers/repo.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
// npm's own settings from `npm test` (npm_config_*) must not steer the npm under test.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));

// dist/ holds every library mfd uses (bundled into its code files), so the package must need
// nothing installed beside it.
describe('npm package (e2e)', () => {
  test('npm pack gives a package that installs offline with no dependencies and no install-time build', async (t) => {
    const dir = await tmpRoot(t);
    // --ignore-scripts: pack the dist/ built before the tests (prepack would rebuild it under their feet).
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, env });
    const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    const dist = ['mfd-exec.js', 'mfd-exec.v8cache', 'mfd-git.js', 'mfd-git.v8cache', 'mfd-lite.js', 'mfd-lite.v8cache', 'mfd-lock.js', 'mfd-lock.v8cache', 'mfd-main.js', 'mfd-main.v8cache', 'mfd.cjs'];
    assert.deepEqual(files.map((f) => f.path).sort(), ['README.md', ...dist.map((f) => `dist/${f}`), 'package.json']);
    const tarball = join(dir, filename);
    const manifest = JSON.parse((await run('tar', ['-xzOf', tarball, 'package/package.json'])).stdout) as Record<string, Record<string, string> | undefined>;
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bundleDependencies']) {
      assert.equal(manifest[field], undefined, `the package declares ${field}`);
    }
    // Scripts npm runs when installing a tarball: a build there would need the devDependencies.
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(manifest.scripts?.[script], undefined, `${script} script`);

    // Offline, with an empty cache: a dependency to fetch fails the install.
    const prefix = join(dir, 'prefix');
    const npmArgs = ['--prefix', prefix, '--cache', join(dir, 'cache'), '--offline', '--no-audit', '--no-fund', '--no-update-notifier'];
    await run('npm', ['install', '--global', ...npmArgs, tarball], { cwd: dir, env });
    assert.deepEqual(await readdir(join(prefix, 'lib', 'node_modules')), ['mfd']);
    assert.deepEqual((await readdir(join(prefix, 'lib', 'node_modules', 'mfd'))).sort(), ['README.md', 'dist', 'package.json'], 'no node_modules');
    assert.deepEqual((await readdir(join(prefix, 'lib', 'node_modules', 'mfd', 'dist'))).sort(), dist);
    const version = await run(join(prefix, 'bin', 'mfd'), ['--version'], { cwd: dir, env });
    assert.match(version.stdout, /^mfd \d+\.\d+\.\d+/);
  });
});
