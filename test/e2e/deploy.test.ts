import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, lstat, mkdir, readdir, readFile, readlink, writeFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { mfd } from '../helpers/cli.ts';

const deployments = async (root: string) => (await readdir(root)).filter((n) => n.startsWith('mfd_')).sort();
const activeTarget = (root: string) => readlink(join(root, 'active'));

describe('mfd deploy (e2e)', () => {
  test('deploys the default branch: checkout without .git, build with MFD_* env, active swapped, ls marks it', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${sha} (active)\n`);
    const target = await activeTarget(app.root);
    assert.match(target, new RegExp(`^mfd_\\d+_${sha}$`));
    const info = JSON.parse(await readFile(join(app.root, 'active', 'build-info.json'), 'utf8'));
    assert.deepEqual(info, { commit: sha, ref: 'refs/heads/main', dir: join(app.root, target) });
    await assert.rejects(access(join(app.root, target, '.git')));
    assert.match(r.stderr, /built [0-9a-f]{40}/);

    const ls = await mfd(['ls'], { cwd: app.root });
    assert.equal(ls.stdout, `${sha} (active)\n`);
    const json = JSON.parse((await mfd(['ls', '--json'], { cwd: app.root })).stdout);
    assert.equal(json.length, 1);
    assert.equal(json[0].sha, sha);
    assert.equal(json[0].active, true);
    assert.equal(json[0].directory, target);
    // The run's log holds the build output.
    const logs = await readdir(join(app.root, '.mfd', 'logs'));
    assert.equal(logs.length, 1);
    assert.match(await readFile(join(app.root, '.mfd', 'logs', logs[0]!), 'utf8'), new RegExp(`built ${sha}`));
  });

  test('a second deploy fetches incrementally, rollback follows history, and a second rollback goes further back', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    assert.equal((await mfd(['deploy', one], { cwd: app.root })).code, 0);
    const firstBytes = app.server.bytesSent;
    const two = await app.commitVersion(2);
    app.server.resetCounters();
    const r2 = await mfd(['deploy', 'main'], { cwd: app.root });
    assert.equal(r2.code, 0, r2.stderr);
    assert.ok(app.server.bytesSent < firstBytes + 2000, `incremental fetch sent ${app.server.bytesSent} bytes`);
    assert.equal((await mfd(['ls'], { cwd: app.root })).stdout, `${two} (active)\n${one}\n`);

    const rb = await mfd(['rollback'], { cwd: app.root });
    assert.equal(rb.code, 0, rb.stderr);
    assert.match(await activeTarget(app.root), new RegExp(one));
    assert.equal((await mfd(['ls'], { cwd: app.root })).stdout, `${two} (rolled-back)\n${one} (active)\n`);

    const again = await mfd(['rollback'], { cwd: app.root });
    assert.equal(again.code, 8);
    assert.match(again.stderr, /^error: nothing to roll back to/m);
    assert.match(again.stderr, /hint: /);
    assert.match(await activeTarget(app.root), new RegExp(one));

    const named = await mfd(['rollback', two.slice(0, 7)], { cwd: app.root });
    assert.equal(named.code, 8, 'a rolled-back deployment is not a rollback target');
  });

  test('unchanged files come from the active deployment, but only when their bytes are still what git has', async (t) => {
    const app = await appFixture(t);
    await app.commitVersion(1, { extra: { 'static/a.txt': 'a\n', 'static/b.txt': 'b\n' } });
    assert.equal((await mfd(['deploy'], { cwd: app.root })).code, 0);
    // The running app (or its build) rewrote a tracked file in its own directory.
    await writeFile(join(app.root, 'active', 'static', 'a.txt'), 'A\n');
    await app.commitVersion(2);
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 0, r.stderr);
    // build.js and static/b.txt are unchanged and intact; version.txt changed; static/a.txt was edited.
    assert.match(r.stderr, /checkout +mfd_\S+ \(2 of 4 files unchanged, taken from mfd_\d+_[0-9a-f]{40}\)/);
    assert.equal(await readFile(join(app.root, 'active', 'static', 'a.txt'), 'utf8'), 'a\n');
    assert.equal(await readFile(join(app.root, 'active', 'static', 'b.txt'), 'utf8'), 'b\n');
    assert.equal(await readFile(join(app.root, 'active', 'version.txt'), 'utf8'), '2\n');
  });

  test('redeploying a sha with a good deployment reuses it without any network traffic', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const two = await app.commitVersion(2);
    assert.equal((await mfd(['deploy', one], { cwd: app.root })).code, 0);
    assert.equal((await mfd(['deploy', two], { cwd: app.root })).code, 0);
    const before = await deployments(app.root);
    app.server.resetCounters();
    const r = await mfd(['deploy', one], { cwd: app.root });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /reusing/);
    assert.equal(app.server.requests.length, 0);
    assert.deepEqual(await deployments(app.root), before);
    assert.match(await activeTarget(app.root), new RegExp(one));
  });

  test('a failing build leaves active untouched, removes its directory, exits 5, and is rebuilt on the next try', async (t) => {
    const app = await appFixture(t);
    const good = await app.commitVersion(1);
    assert.equal((await mfd(['deploy'], { cwd: app.root })).code, 0);
    const activeBefore = await activeTarget(app.root);
    const bad = await app.commitVersion(2, { fail: true });
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /error: build command \[.*"build\.js"\] failed with exit status 3/);
    assert.match(r.stderr, /compiling\.\.\.\nerror: the build broke/);
    assert.match(r.stderr, /hint: the full output is in .*\.mfd\/logs\/.*\.log; active is untouched/);
    assert.equal(await activeTarget(app.root), activeBefore);
    assert.deepEqual(await deployments(app.root), [activeBefore]);
    assert.equal((await mfd(['ls'], { cwd: app.root })).stdout, `${good} (active)\n`);
    const json = JSON.parse((await mfd(['deploy', '--json'], { cwd: app.root })).stdout);
    assert.deepEqual([json.ok, json.code], [false, 'BUILD_FAILED']);
    // The record says failed, so a redeploy of that sha builds again instead of reusing.
    const record = JSON.parse(await readFile(join(app.root, '.mfd', 'deployments', `${(await readdir(join(app.root, '.mfd', 'deployments'))).find((f) => f.includes(bad))}`), 'utf8'));
    assert.equal(record.state, 'failed');
  });

  test('prune keeps the three newest good deployments', async (t) => {
    const app = await appFixture(t);
    const shas: string[] = [];
    for (let i = 1; i <= 5; i++) {
      shas.push(await app.commitVersion(i));
      const r = await mfd(['deploy', shas.at(-1)!], { cwd: app.root });
      assert.equal(r.code, 0, r.stderr);
    }
    const left = await deployments(app.root);
    assert.equal(left.length, 3);
    for (const sha of shas.slice(2)) assert.ok(left.some((d) => d.endsWith(sha)), sha);
  });

  test('Go mfd deployments are adopted: listed, reused by a redeploy, and a rollback target', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const two = await app.commitVersion(2);
    await mkdir(join(app.root, `mfd_1000_${one}`));
    await writeFile(join(app.root, `mfd_1000_${one}`, 'go-built'), 'x');
    await symlink(`mfd_1000_${one}`, join(app.root, 'active'));
    assert.equal((await mfd(['ls'], { cwd: app.root })).stdout, `${one} (active)\n`);
    assert.equal((await mfd(['deploy', two], { cwd: app.root })).code, 0);
    const rb = await mfd(['rollback'], { cwd: app.root });
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal(await activeTarget(app.root), `mfd_1000_${one}`);
    app.server.resetCounters();
    assert.equal((await mfd(['deploy', one], { cwd: app.root })).code, 0);
    assert.equal(app.server.requests.length, 0);
  });

  test('-C and --config resolve everything from the config directory, not the cwd', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    const r = await mfd(['-C', app.root, 'deploy'], { cwd: '/' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await mfd(['--config', join(app.root, 'mfd.toml'), 'ls'])).stdout, `${sha} (active)\n`);
    assert.ok((await lstat(join(app.root, 'active'))).isSymbolicLink());
  });

  test('mfd resolve prints the full sha of a branch, tag and short sha without deploying', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    await app.commitVersion(2);
    await app.repo.tag('v1', one, { annotated: true });
    await app.repo.push();
    for (const ref of ['v1', 'main~1', one.slice(0, 8)]) {
      const r = await mfd(['resolve', ref], { cwd: app.root });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${one}\n`, ref);
    }
    assert.deepEqual(await deployments(app.root), []);
  });
});
