import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, lstat, readdir, readFile, readlink } from 'node:fs/promises';
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

  // On-disk effects (active untouched, directory removed, record failed, rebuilt next time):
  // test/run/deploy.test.ts. Here what the process shows: exit 5, the output, the hint, --json.
  test('a failing build exits 5 with the failing command, its output and where the full log is', async (t) => {
    const app = await appFixture(t);
    await app.commitVersion(1, { fail: true });
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /error: build command \["sh","build\.sh"\] failed with exit status 3/);
    assert.match(r.stderr, /compiling\.\.\.\nerror: the build broke/);
    assert.match(r.stderr, /hint: the full output is in .*\.mfd\/logs\/.*\.log; active is untouched/);
    assert.deepEqual(await deployments(app.root), []);
    const json = JSON.parse((await mfd(['deploy', '--json'], { cwd: app.root })).stdout);
    assert.deepEqual([json.ok, json.code], [false, 'BUILD_FAILED']);
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
