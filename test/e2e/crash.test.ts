import { describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testContext } from '../helpers/context.ts';
import { deploy as deployInProcess } from '../../src/run/deploy.ts';
import { LIST } from '../../src/commands/list.ts';
import { appFixture, BUILD_COMMANDS } from '../helpers/app.ts';
import { mfd, startMfd, waitForOutput } from '../helpers/cli.ts';
import { runGit } from '../helpers/repo.ts';
import { MAX_PACKS } from '../../src/git/git.ts';
import { writePack } from '../helpers/pack.ts';
import type { PausePoint } from '../../src/sys/testhook.ts';

/** Sets the scene without a process: the deploys under test are the CLI's. */
const deployFirst = async (root: string) => void (await deployInProcess((await testContext(root)).ctx, undefined));

/**
 * The deploy after a kill, in-process: recovery is the same code whoever runs it, and only the
 * kill needs the real process. What it wrote to stderr comes back for the test to read.
 */
async function deployAfter(root: string): Promise<{ stderr: string }> {
  const run = await testContext(root);
  await deployInProcess(run.ctx, undefined);
  return { stderr: run.stderr() };
}

/** What `mfd ls` prints, by the real command on a Context of its own. */
async function lsAfter(root: string): Promise<string> {
  const run = await testContext(root);
  await LIST.run(run.ctx, [], {});
  return run.stdout();
}

// mfd pauses at a named step when MFD_TEST_PAUSE_AT is set (src/sys/testhook.ts), so each kill lands
// exactly there. After the kill, active must resolve to a complete deployment, and the next
// deploy must succeed without manual work.
const STEPS = [
  { step: 'resolve', activeAfter: 'old' },
  { step: 'fetch', activeAfter: 'old' },
  { step: 'checkout-partial', activeAfter: 'old' },
  { step: 'checkout', activeAfter: 'old' },
  { step: 'built', activeAfter: 'old' },
  { step: 'swap', activeAfter: 'old' },
  { step: 'activated', activeAfter: 'new' },
  { step: 'health', activeAfter: 'new' },
  { step: 'prune', activeAfter: 'new' },
] as const satisfies readonly { step: PausePoint; activeAfter: 'old' | 'new' }[];


describe('crash safety (e2e)', () => {
  test('kill -9 in the middle of receiving a pack leaves active alone, and the next deploy fetches it whole', async (t) => {
    let holding = false;
    let midFetch!: () => void;
    const reached = new Promise<void>((resolve) => (midFetch = resolve));
    const app = await appFixture(t, {
      // The server stops half-way through the pack and holds the response until mfd is gone.
      beforeChunk: async (entry, sent, res) => {
        if (!holding || entry.command !== 'fetch' || sent < 64 * 1024) return;
        midFetch();
        await once(res, 'close');
      },
    });
    const old = await app.commitVersion(1);
    await deployFirst(app.root);
    // Hex of a hash chain: 2 MB that compresses to no less than ~1 MB.
    let big = '';
    for (let i = 0; big.length < 2 * 1024 * 1024; i++) big += createHash('sha256').update(String(i)).digest('hex');
    const next = await app.commitVersion(2, { extra: { 'big.txt': big } });

    holding = true;
    const run = startMfd(['deploy'], { cwd: app.root });
    await reached;
    run.child.kill('SIGKILL');
    await run.done;
    holding = false;

    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${old}$`));
    assert.equal(JSON.parse(await readFile(join(app.root, 'active', 'build-info.json'), 'utf8')).commit, old);
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 0, r.stderr);
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${next}$`));
    assert.equal(await readFile(join(app.root, 'active', 'big.txt'), 'utf8'), big);
  });

  // isomorphic-git writes a pack's index with a plain write: a kill between creating it and
  // filling it (or a power cut before the disk had it) leaves it empty, which once failed every
  // later deploy with "cannot reach" the remote until someone removed .mfd/repo.git.
  test('a pack index left empty in the cache is removed by the next deploy, which succeeds and says so', async (t) => {
    const app = await appFixture(t);
    await app.commitVersion(1);
    await deployFirst(app.root);
    const packDir = join(app.root, '.mfd', 'repo.git', 'objects', 'pack');
    const indexes = (await readdir(packDir)).filter((n) => n.endsWith('.idx'));
    assert.equal(indexes.length, 1);
    await writeFile(join(packDir, indexes[0]!), '');
    const next = await app.commitVersion(2);
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /removed 1 damaged pack\(s\) an interrupted run left/);
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${next}$`));
    assert.ok(!(await readdir(packDir)).includes(indexes[0]!));
  });

  // Past MAX_PACKS a deploy's fetch compacts the cache: writes one new pack, then removes the rest.
  for (const step of ['compact-written', 'compact-removing'] as const satisfies readonly PausePoint[]) {
    test(`kill -9 while compacting the cache ("${step}"): active untouched, the next deploy recovers`, async (t) => {
      const app = await appFixture(t);
      const old = await app.commitVersion(1);
      await deployFirst(app.root);
      const packDir = join(app.root, '.mfd', 'repo.git', 'objects', 'pack');
      // Filler packs (one blob each) so that the next fetch's pack takes the cache past MAX_PACKS.
      for (let i = 0; i < MAX_PACKS; i++) {
        const { name, data } = writePack([{ type: 'blob', content: Buffer.from(`filler ${i}\n`) }]);
        await writeFile(join(packDir, name), data);
        await runGit(['index-pack', join(packDir, name)], { cwd: packDir });
      }
      const next = await app.commitVersion(2);
      const run = startMfd(['deploy'], { cwd: app.root, env: { MFD_TEST_PAUSE_AT: step } });
      await waitForOutput(run, `mfd-test-paused-at:${step}`);
      run.child.kill('SIGKILL');
      await run.done;
      assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${old}$`));

      await deployAfter(app.root);
      assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${next}$`));
      const third = await app.commitVersion(3);
      await deployAfter(app.root);
      assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${third}$`));
      const indexes = (await readdir(packDir)).filter((n) => n.endsWith('.idx'));
      assert.ok(indexes.length <= 3, `compacted: ${indexes.join(', ')}`);
      for (const idx of indexes) await runGit(['verify-pack', join(packDir, idx)], { cwd: packDir });
    });
  }

  for (const { step, activeAfter } of STEPS) {
    test(`kill -9 at "${step}" leaves active on a complete deployment and the next deploy recovers`, async (t) => {
      // A health check that passes, so there is a health step to be killed in.
      const app = await appFixture(t, {
        config: (url) => `[repo]\nurl = "${url}"\n[build]\n${BUILD_COMMANDS}\n[health]\ncommand = ["true"]\n`,
      });
      const old = await app.commitVersion(1);
      await deployFirst(app.root);
      const next = await app.commitVersion(2);

      const run = startMfd(['deploy'], { cwd: app.root, env: { MFD_TEST_PAUSE_AT: step } });
      await waitForOutput(run, `mfd-test-paused-at:${step}`);
      run.child.kill('SIGKILL');
      await run.done;

      const expected = activeAfter === 'old' ? old : next;
      const target = await readlink(join(app.root, 'active'));
      assert.match(target, new RegExp(`_${expected}$`));
      const info = JSON.parse(await readFile(join(app.root, 'active', 'build-info.json'), 'utf8'));
      assert.equal(info.commit, expected, 'active holds a complete, built deployment');

      assert.doesNotMatch(await lsAfter(app.root), /building/, 'ls reconciles the killed build first');

      const r = await deployAfter(app.root);
      assert.match(r.stderr, /Found stale lock file, removing\.\.\./, 'the dead deploy\'s lock is taken over at once');
      assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${next}$`));
      const names = await readdir(app.root);
      assert.ok(!names.some((n) => n.startsWith('.active.tmp')), `no temporary link left: ${names.join(' ')}`);
      const dirs = names.filter((n) => n.startsWith('mfd_'));
      for (const d of dirs) {
        const built = await readFile(join(app.root, d, 'build-info.json'), 'utf8').catch(() => undefined);
        assert.ok(built, `${d} is a complete deployment, not a leftover`);
      }
    });
  }
  // A build left running by a killed deploy: test/e2e/orphan.test.ts, inside a private pid namespace.
});
