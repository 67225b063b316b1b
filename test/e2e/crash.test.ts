import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { mfd, startMfd, waitForOutput } from '../helpers/cli.ts';

// mfd pauses at a named step when MFD_TEST_PAUSE_AT is set (src/testhook.ts), so each kill lands
// exactly there. After the kill, active must resolve to a complete deployment, and the next
// deploy must succeed without manual work.
const STEPS = [
  { step: 'resolve', activeAfter: 'old' },
  { step: 'fetch', activeAfter: 'old' },
  { step: 'checkout', activeAfter: 'old' },
  { step: 'built', activeAfter: 'old' },
  { step: 'swap', activeAfter: 'old' },
  { step: 'activated', activeAfter: 'new' },
  { step: 'health', activeAfter: 'new' },
  { step: 'prune', activeAfter: 'new' },
] as const;

const node = JSON.stringify(process.execPath);

describe('crash safety (e2e)', () => {
  for (const { step, activeAfter } of STEPS) {
    test(`kill -9 at "${step}" leaves active on a complete deployment and the next deploy recovers`, async (t) => {
      // A health check that passes, so there is a health step to be killed in.
      const app = await appFixture(t, {
        config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "build.js"]]\n[health]\ncommand = [${node}, "-e", ""]\n`,
      });
      const old = await app.commitVersion(1);
      assert.equal((await mfd(['deploy'], { cwd: app.root })).code, 0);
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

      const ls = await mfd(['ls'], { cwd: app.root });
      assert.equal(ls.code, 0, ls.stderr);
      assert.doesNotMatch(ls.stdout, /building/, 'ls reconciles the killed build first');

      const r = await mfd(['deploy'], { cwd: app.root });
      assert.equal(r.code, 0, r.stderr);
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
});
