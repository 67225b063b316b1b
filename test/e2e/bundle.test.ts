import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { appFixture } from '../helpers/app.ts';
import { EXIT } from '../../src/errors/base.ts';
import { MFD, mfd } from '../helpers/cli.ts';
import { tmpRoot } from '../helpers/repo.ts';

const BUILD = fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url));
const PROBE = fileURLToPath(new URL('../helpers/vendor-probe.cjs', import.meta.url));
// Without NODE_EXTRA_CA_CERTS, which makes Node load node:crypto itself as it starts.
const probe = { NODE_OPTIONS: `--require ${PROBE}`, NODE_EXTRA_CA_CERTS: undefined };
// The last report is mfd's own: build commands inherit NODE_OPTIONS and report first.
const compiled = (stderr: string): string => [...stderr.matchAll(/mfd-vendor-compiled:\[([^\]]*)\]/g)].at(-1)?.[1] ?? 'no report';
const builtins = (stderr: string): string => [...stderr.matchAll(/mfd-builtins-loaded:\[([^\]]*)\]/g)].at(-1)?.[1] ?? 'no report';

// Start-up is mostly V8 reading and parsing the file, so isomorphic-git, execa and
// proper-lockfile live in dist/mfd.cjs as compressed strings, each compiled on first use only.
describe('bundle', () => {
  test('dist/mfd.cjs is one self-contained file with the heavy libraries out of the parsed code', async () => {
    const bundle = await readFile(MFD, 'utf8');
    assert.doesNotMatch(bundle, /require\("(isomorphic-git|execa|smol-toml|zod|proper-lockfile)[/"]/, 'dependencies are bundled');
    for (const lib of ['isomorphic-git', 'execa', 'proper-lockfile', 'pako']) {
      assert.ok(!bundle.includes(`node_modules/${lib}/`), `${lib} is not in the code V8 parses at start-up`);
    }
  });

  test('each command compiles only the libraries it uses, each at most once', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    for (const args of [['--help'], ['ls'], ['status'], ['history']]) {
      const run = await mfd(args, { cwd: app.root, env: probe });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(compiled(run.stderr), '', `mfd ${args.join(' ')} compiled vendor code`);
      // node:crypto and the streams behind it load on first use (scripts/build.mjs LAZY_BUILTINS).
      // (--help loads node:https, whose TLS loads them.)
      if (args[0] !== '--help') assert.equal(builtins(run.stderr), '', `mfd ${args.join(' ')} loaded node:crypto`);
    }
    const resolved = await mfd(['resolve'], { cwd: app.root, env: probe });
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.equal(resolved.stdout.trim(), sha);
    assert.equal(compiled(resolved.stderr), 'git');
    const deployed = await mfd(['deploy'], { cwd: app.root, env: probe });
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.equal(compiled(deployed.stderr), 'lock,git,exec');
    assert.equal(builtins(deployed.stderr), 'crypto', 'a deploy hashes, so it loads node:crypto when it first does');
    const listed = await mfd(['ls'], { cwd: app.root, env: probe });
    assert.match(listed.stdout, new RegExp(`^${sha} \\(active\\)$`, 'm'));
    assert.equal(compiled(listed.stderr), '');
    // A redeploy of a built commit by its sha: no remote to ask, nothing to fetch, build or restart.
    const again = await mfd(['deploy', sha], { cwd: app.root, env: probe });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /reusing mfd_/);
    assert.equal(compiled(again.stderr), 'lock');
    // The bundle was built by this Node, so V8 must take every group's code cache, and the main
    // code's whatever the command (the cache was made by running `ls`).
    for (const run of [resolved, deployed, again]) assert.match(run.stderr, /mfd-main:\[cache accepted\] .* cache-rejected:\[\]\n$/);
    assert.match(listed.stderr, /mfd-main:\[cache accepted\]/);
  });

  test('the main code, read back from its comment, is the code esbuild wrote: stack traces point at its lines', async (t) => {
    const app = await appFixture(t);
    await writeFile(join(app.root, 'mfd.toml'), 'this is not TOML');
    const run = await mfd(['ls', '--verbose'], { cwd: app.root });
    assert.equal(run.code, EXIT.config, run.stderr);
    // Frames of mfd's own code name mfd.cjs with a line and column: the first line of dist/mfd.cjs
    // named throws the error, and each next one calls the function of the frame before it.
    const bundle = (await readFile(MFD, 'latin1')).split('\n');
    const frames = [...run.stderr.matchAll(/at (?:async )?(\w+) \(mfd\.cjs:(\d+):\d+\)/g)].map(([, fn, line]) => ({ fn: fn!, text: bundle[Number(line) - 1]! }));
    assert.ok(frames.length >= 2, run.stderr);
    assert.match(frames[0]!.text, /throw new ConfigInvalidError\(/);
    frames.slice(1).forEach((frame, i) => assert.ok(frame.text.includes(`${frames[i]!.fn}(`), `${frame.fn} calls ${frames[i]!.fn}: ${frame.text}`));
  });

  test('a code cache V8 will not take (another Node, other flags) is ignored: the command still works', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    // --no-opt changes V8's flag hash, so every cache built by `npm run build` no longer fits.
    const run = await promisify(execFile)(process.execPath, ['--no-opt', '--require', PROBE, MFD, 'resolve'], { cwd: app.root });
    assert.equal(run.stdout.trim(), sha);
    assert.match(run.stderr, /mfd-main:\[cache rejected\] mfd-vendor-compiled:\[git\] cache-rejected:\[git\]/);
  });

  test('two builds of one checkout are byte-identical, code caches included', async (t) => {
    const dir = await tmpRoot(t);
    const outs = [join(dir, 'one'), join(dir, 'two')];
    // At once, as a loaded machine would: what the caches hold must not depend on timing.
    await Promise.all(outs.map((out) => promisify(execFile)(process.execPath, [BUILD, '--outdir', out])));
    for (const out of outs) assert.deepEqual(await readdir(out), ['mfd.cjs']);
    const [one, two] = await Promise.all(outs.map((out) => readFile(join(out, 'mfd.cjs'))));
    const first = one!.findIndex((byte, i) => byte !== two![i]);
    assert.ok(one!.equals(two!), `the builds differ from byte ${first < 0 ? Math.min(one!.length, two!.length) : first} (sizes ${one!.length}, ${two!.length})`);
  });
});
