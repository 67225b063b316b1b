import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
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

// Start-up is mostly V8 compiling code, so isomorphic-git, execa and proper-lockfile are files
// of their own beside dist/mfd.cjs, each compiled on first use only (scripts/build.mjs).
const DIST = dirname(MFD);
const FILES = ['mfd-exec.js', 'mfd-exec.v8cache', 'mfd-git.js', 'mfd-git.v8cache', 'mfd-lite.js', 'mfd-lite.v8cache', 'mfd-lock.js', 'mfd-lock.v8cache', 'mfd-main.js', 'mfd-main.v8cache', 'mfd.cjs'];
// dist/mfd is the single executable, there only after `npm run package`.
const built = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((name) => name !== 'mfd').sort();

describe('bundle', () => {
  test('dist/ is the loader, the main code and each library group, each with its code cache, nothing required from node_modules', async () => {
    assert.deepEqual(await built(DIST), FILES);
    for (const name of FILES.filter((f) => f.endsWith('.js') || f.endsWith('.cjs'))) {
      const code = await readFile(join(DIST, name), 'utf8');
      assert.doesNotMatch(code, /require\("(isomorphic-git|execa|smol-toml|zod|proper-lockfile)[/"]/, `${name}: dependencies are bundled`);
    }
    for (const name of ['mfd-main.js', 'mfd-lite.js']) {
      const code = await readFile(join(DIST, name), 'utf8');
      for (const lib of ['isomorphic-git', 'execa', 'proper-lockfile', 'pako']) {
        assert.ok(!code.includes(`node_modules/${lib}/`), `${lib} is not in ${name}, the code compiled at start-up`);
      }
    }
    // mfd-lite.js is mfd's code without the deploy path (scripts/build.mjs withoutDeployPath).
    const lite = await readFile(join(DIST, 'mfd-lite.js'), 'utf8');
    for (const module of ['src/git/', 'src/cd/', 'src/serve/', 'src/run/deploy.ts', 'src/run/rollback.ts', 'src/steps/build.ts']) {
      assert.ok(!lite.includes(`// ${module}`), `${module} is not in mfd-lite.js`);
      assert.ok((await readFile(join(DIST, 'mfd-main.js'), 'utf8')).includes(`// ${module}`), `${module} is in mfd-main.js`);
    }
    assert.ok((await readFile(join(DIST, 'mfd-git.js'), 'utf8')).includes('isomorphic-git'), 'isomorphic-git is in its group');
  });

  test('each command compiles only the libraries it uses, each at most once', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    for (const args of [['--help'], ['ls'], ['status'], ['history']]) {
      const run = await mfd(args, { cwd: app.root, env: probe });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(compiled(run.stderr), '', `mfd ${args.join(' ')} compiled vendor code`);
      // node:crypto (and the streams behind it), node:https and node:fs/promises load on first use (scripts/build.mjs LAZY_BUILTINS).
      assert.equal(builtins(run.stderr), '', `mfd ${args.join(' ')} loaded node:crypto, node:https or node:fs/promises`);
    }
    const resolved = await mfd(['resolve'], { cwd: app.root, env: probe });
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.equal(resolved.stdout.trim(), sha);
    assert.equal(compiled(resolved.stderr), 'git');
    assert.equal(builtins(resolved.stderr), '', 'a resolve over http loads neither TLS nor node:crypto');
    const deployed = await mfd(['deploy'], { cwd: app.root, env: probe });
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.equal(compiled(deployed.stderr), 'lock,git,exec');
    assert.equal(builtins(deployed.stderr), 'crypto,fs/promises', 'a deploy hashes and writes files through a FileHandle, so it loads node:crypto and node:fs/promises when it first does (and over http no node:https)');
    const listed = await mfd(['ls'], { cwd: app.root, env: probe });
    assert.match(listed.stdout, new RegExp(`^${sha} \\(active\\)$`, 'm'));
    assert.equal(compiled(listed.stderr), '');
    // A redeploy of a built commit by its sha: no remote to ask, nothing to fetch, build or restart.
    const again = await mfd(['deploy', sha], { cwd: app.root, env: probe });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /reusing mfd_/);
    assert.equal(compiled(again.stderr), 'lock');
    // The bundle was built by this Node, so V8 must take every group's code cache, and mfd's: the
    // commands that deploy run mfd-main.js with the cache a deploy made, the others mfd-lite.js
    // with the one `ls` made.
    for (const run of [resolved, deployed, again]) assert.match(run.stderr, /mfd-main:\[mfd-main\.js cache accepted: mfd-main\.v8cache\] .* cache-rejected:\[\]\n$/);
    assert.match(listed.stderr, /mfd-main:\[mfd-lite\.js cache accepted: mfd-lite\.v8cache\]/);
  });

  test('an https remote loads node:https on first use, and resolves and deploys through TLS', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    // A TLS front on 127.0.0.1 for the fixture's git server, its self-signed certificate trusted
    // the way a server trusts a private CA: NODE_EXTRA_CA_CERTS.
    const dir = await tmpRoot(t);
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert]);
    const backend = new URL(app.url);
    const front = createHttpsServer({ key: await readFile(key), cert: await readFile(cert) }, (req, res) => {
      const upstream = httpRequest({ host: backend.hostname, port: backend.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
    t.after(() => {
      front.closeAllConnections();
      front.close();
    });
    const url = `https://127.0.0.1:${(front.address() as AddressInfo).port}${backend.pathname}`;
    await app.writeConfig(`[repo]\nurl = "${url}"\n\n[build]\ncommands = []\n`);
    const env = { ...probe, NODE_EXTRA_CA_CERTS: cert };
    const resolved = await mfd(['resolve'], { cwd: app.root, env });
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.equal(resolved.stdout.trim(), sha);
    assert.equal(builtins(resolved.stderr), 'crypto,https');
    const deployed = await mfd(['deploy'], { cwd: app.root, env });
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${sha}$`));
  });

  test('stack traces point at the lines of dist/mfd-lite.js and dist/mfd-main.js', async (t) => {
    const app = await appFixture(t);
    await writeFile(join(app.root, 'mfd.toml'), 'this is not TOML');
    for (const [command, file] of [['ls', 'mfd-lite.js'], ['deploy', 'mfd-main.js']] as const) {
      const run = await mfd([command, '--verbose'], { cwd: app.root });
      assert.equal(run.code, EXIT.config, run.stderr);
      // Frames of mfd's own code name its file with a line and column: the first line named
      // throws the error, and each next one calls the function of the frame before it.
      const code = (await readFile(join(DIST, file), 'latin1')).split('\n');
      const frames = [...run.stderr.matchAll(new RegExp(`at (?:async )?(\\w+) \\(${file.replace('.', '\\.')}:(\\d+):\\d+\\)`, 'g'))].map(([, fn, line]) => ({ fn: fn!, text: code[Number(line) - 1]! }));
      assert.ok(frames.length >= 2, run.stderr);
      assert.match(frames[0]!.text, /throw new ConfigInvalidError\(/);
      frames.slice(1).forEach((frame, i) => assert.ok(frame.text.includes(`${frames[i]!.fn}(`), `${file}: ${frame.fn} calls ${frames[i]!.fn}: ${frame.text}`));
    }
  });

  test('mfd-lite.js, run for a command of mfd-main.js, fails saying so rather than deploying without its code', async (t) => {
    const app = await appFixture(t);
    await app.commitVersion(1);
    // What dist/mfd.cjs does, with mfd-lite.js where it would run mfd-main.js.
    const loader = `const { Script } = require("node:vm"); const file = ${JSON.stringify(join(DIST, 'mfd-lite.js'))};
new Script(require("node:fs").readFileSync(file, "latin1"), { filename: file }).runInThisContext()(exports, require, module, __filename, ${JSON.stringify(DIST)});`;
    const run = await promisify(execFile)(process.execPath, ['-e', loader, '--', 'mfd.cjs', 'deploy', '--ci'], { cwd: app.root }).catch((error: { code: number; stderr: string }) => error);
    assert.equal((run as { code?: number }).code, EXIT.internal);
    assert.match(run.stderr, /mfd-lite\.js does not hold .*: dist\/mfd\.cjs runs mfd-main\.js for deploy, resolve, rollback, serve, watch/);
    assert.deepEqual((await readdir(app.root)).filter((name) => name.startsWith('mfd_') || name === 'active'), [], 'nothing was deployed');
  });

  test('a code cache V8 will not take (another Node, other flags) is ignored: the command still works', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    // --no-opt changes V8's flag hash, so every cache built by `npm run build` no longer fits.
    const run = await promisify(execFile)(process.execPath, ['--no-opt', '--require', PROBE, MFD, 'resolve'], { cwd: app.root });
    assert.equal(run.stdout.trim(), sha);
    assert.match(run.stderr, /mfd-main:\[mfd-main\.js cache rejected\] mfd-vendor-compiled:\[git\] cache-rejected:\[git\]/);
  });

  test('two builds of one checkout are byte-identical, code caches included', async (t) => {
    const dir = await tmpRoot(t);
    const outs = [join(dir, 'one'), join(dir, 'two')];
    // At once, as a loaded machine would: what the caches hold must not depend on timing.
    await Promise.all(outs.map((out) => promisify(execFile)(process.execPath, [BUILD, '--outdir', out])));
    for (const out of outs) assert.deepEqual(await built(out), FILES);
    for (const name of FILES) {
      const [one, two] = await Promise.all(outs.map((out) => readFile(join(out, name))));
      const first = one!.findIndex((byte, i) => byte !== two![i]);
      assert.ok(one!.equals(two!), `the builds' ${name} differ from byte ${first < 0 ? Math.min(one!.length, two!.length) : first} (sizes ${one!.length}, ${two!.length})`);
    }
  });
});
