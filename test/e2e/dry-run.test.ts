import { describe, test } from 'node:test';
import { hostname } from 'node:os';
import assert from 'node:assert/strict';
import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { mfd } from '../helpers/cli.ts';
import { snapshotTree } from '../helpers/snapshot.ts';
import { acquireLock } from '../../src/lock/file.ts';
import { deploy } from '../../src/run/deploy.ts';
import { testContext } from '../helpers/context.ts';

const node = JSON.stringify(process.execPath);
const config = (extra = '') => (url: string) =>
  `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "build.js"]]\n[deploy]\nkeep = 1\n${extra}`;

/** Two deployments (v1, then v2 active) and a v3 pushed but not deployed: deployed in-process, only the dry runs are the CLI's. */
async function deployedTwice(app: AppFixture) {
  const v1 = await app.commitVersion(1);
  await deploy((await testContext(app.root)).ctx, undefined);
  const v2 = await app.commitVersion(2);
  await deploy((await testContext(app.root)).ctx, undefined);
  const v3 = await app.commitVersion(3);
  const dirs = (await readdir(app.root)).filter((n) => n.startsWith('mfd_'));
  const dirOf = (sha: string) => dirs.find((d) => d.endsWith(sha))!;
  return { v1, v2, v3, dir1: dirOf(v1), dir2: dirOf(v2) };
}

describe('mfd deploy --dry-run (e2e)', () => {
  test('prints the resolved sha, the build and its commands, the would-be active, what is pruned, the lock and the disk; changes nothing', async (t) => {
    const app = await appFixture(t, { config: config() });
    const { v3, dir1, dir2 } = await deployedTwice(app);
    const before = await snapshotTree(app.root);

    const r = await mfd(['deploy', '--dry-run'], { cwd: app.root });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^dry run: nothing was changed$/m);
    assert.match(r.stdout, new RegExp(`^resolve +refs/heads/main → ${v3}$`, 'm'));
    assert.match(r.stdout, /^build +1 command\(s\), in a new deployment$/m);
    assert.match(r.stdout, /^ +\$ \S+ build\.js$/m);
    assert.match(r.stdout, new RegExp(`^active +mfd_\\d+_${v3} \\(the would-be name: a name is claimed only when the build starts\\)$`, 'm'));
    assert.match(r.stdout, new RegExp(`^previous +${dir2}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^prune +${dir1}$`, 'm'));
    assert.match(r.stdout, /^lock +free$/m);
    assert.match(r.stdout, /^disk +\S+ free, floor 100\.0MiB: ok$/m);
    assert.match(r.stdout, /^steps +resolve → fetch → checkout → build → activate → prune$/m);

    const j = await mfd(['deploy', '--dry-run', '--json'], { cwd: app.root });
    assert.equal(j.code, 0, j.stderr);
    const plan = JSON.parse(j.stdout);
    assert.equal(plan.ok, true);
    assert.equal(plan.dryRun, true);
    assert.deepEqual([plan.sha, plan.ref, plan.action, plan.reuse], [v3, 'refs/heads/main', 'build', null]);
    assert.deepEqual(plan.commands, [[process.execPath, 'build.js']]);
    assert.match(plan.active, new RegExp(`^mfd_\\d+_${v3}$`));
    assert.equal(plan.activeClaimed, false);
    assert.deepEqual([plan.previous, plan.prune], [dir2, [dir1]]);
    assert.equal(plan.lock.free, true);
    assert.deepEqual(plan.lock.locks.map((l: { name: string; state: string }) => [l.name, l.state]), [['app', 'free']]);
    assert.equal(plan.disk.ok, true);
    assert.equal(plan.disk.checked, true);
    assert.ok(plan.disk.free > 0 && plan.disk.floor === 100 * 1024 ** 2);

    assert.deepEqual(await snapshotTree(app.root), before, 'the app root, .mfd included, is byte for byte as it was');
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`^${dir2}$`));
  });

  test('a built sha is a reuse; a held lock and a disk below the floor are reported, still exit 0 and nothing written', async (t) => {
    const app = await appFixture(t, { config: config() });
    const { v2, dir1, dir2 } = await deployedTwice(app);
    await app.writeConfig(config('min_free = "1000TB"\n')(app.url));
    // Held by this test process, alive; a heartbeat far off so the file does not change meanwhile.
    const held = await acquireLock({ name: 'app', file: join(app.root, '.mfd-deploy.lock') }, { command: 'deploy', ref: 'x', staleMs: 3_600_000, now: Date.now, identity: { user: 'test', host: process.env.HOSTNAME || hostname(), pid: process.pid } });
    t.after(() => held.release());
    const before = await snapshotTree(app.root);

    const r = await mfd(['deploy', '--dry-run', v2], { cwd: app.root });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^reuse +${dir2}: already built from ${v2}, no fetch or build$`, 'm'));
    assert.match(r.stdout, new RegExp(`^active +${dir2}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^prune +${dir1}$`, 'm'));
    assert.match(r.stdout, /^lock +held: the deploy would wait \(--wait\) or fail \(exit 3\)$/m);
    assert.match(r.stdout, new RegExp(`^ +app: held by \\S+@\\S+ pid ${process.pid} "mfd deploy x": \\S+\\.mfd-deploy\\.lock$`, 'm'));
    assert.match(r.stdout, /^disk +\S+ free, floor 909\.5TiB: not needed for a reuse$/m);
    assert.match(r.stdout, /^steps +resolve → activate → prune$/m);

    const j = JSON.parse((await mfd(['deploy', '--dry-run', '--json', 'main'], { cwd: app.root })).stdout);
    assert.deepEqual([j.action, j.lock.free, j.disk.ok, j.disk.checked], ['build', false, false, true]);
    assert.match((await mfd(['deploy', '--dry-run', 'main'], { cwd: app.root })).stdout, /^disk .*: too little: the deploy would stop before fetching \(exit 9\)$/m);
    assert.deepEqual(await snapshotTree(app.root), before);
  });

  test('on an app never deployed it plans the first build and creates nothing, not even .mfd', async (t) => {
    const app = await appFixture(t, { config: config() });
    const v1 = await app.commitVersion(1);
    const before = await snapshotTree(app.root);
    const r = await mfd(['deploy', '--dry-run', 'main'], { cwd: app.root });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^resolve +main → ${v1}$`, 'm'));
    assert.match(r.stdout, /^previous +none$/m);
    assert.match(r.stdout, /^prune +nothing$/m);
    assert.match(r.stdout, /^steps +resolve → fetch → checkout → build → activate$/m);
    assert.deepEqual(await snapshotTree(app.root), before);
    assert.deepEqual(Object.keys(before), ['.', '/mfd.toml']);
  });

  test('a short sha or REF~N would need a fetch: exit 2 with a hint, nothing written; --dry-run is refused elsewhere', async (t) => {
    const app = await appFixture(t, { config: config() });
    const { v1 } = await deployedTwice(app);
    const before = await snapshotTree(app.root);
    for (const ref of [v1.slice(0, 8), 'main~1']) {
      const r = await mfd(['deploy', '--dry-run', ref], { cwd: app.root });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^error: a dry run cannot resolve "${ref.replace('~', '~')}" without fetching history into \\.mfd/repo\\.git$`, 'm'));
      assert.match(r.stderr, new RegExp(`^  hint: name a branch, a tag or a full sha; "mfd resolve ${ref}" fetches what it needs`, 'm'));
    }
    const rollback = await mfd(['rollback', '--dry-run'], { cwd: app.root });
    assert.equal(rollback.code, 2, rollback.stderr);
    assert.match(rollback.stderr, /^error: "mfd rollback" does not take --dry-run \(deploy takes it\)$/m);
    assert.deepEqual(await snapshotTree(app.root), before);
  });
});
