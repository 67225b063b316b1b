// The stop of `mfd watch` / `mfd serve` when a deploy under way outlasts its grace: the loop's
// stop(graceMs) with a real deploy (real Context, git server and build) whose build never ends by
// itself, so the grace always runs out. The commands pass a fixed 60 s; the path is the same.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { deployInProcess, testContext } from '../helpers/context.ts';
import { exists, until } from '../helpers/hold.ts';
import { IN_PID_NAMESPACE, testInPidNamespace } from '../helpers/pidns-file.ts';
import { createAppLoop } from '../../src/cd/app-loop.ts';
import { LevelLog } from '../../src/cd/log.ts';
import { isRunning } from '../../src/sys/process.ts';

// The build gets SIGTERM (its process group) when the grace runs out: only inside a private pid namespace.
if (!IN_PID_NAMESPACE) {
  testInPidNamespace('the stop grace of the deploy loop (inside a private pid namespace)', import.meta.filename);
} else {
  const node = JSON.stringify(process.execPath);
  // With T_STARTED: writes its pid there and blocks until it is signalled; otherwise a quick build.
  const HOLD = `const fs = require('fs'); if (process.env.T_STARTED) { fs.writeFileSync(process.env.T_STARTED, String(process.pid)); setInterval(() => {}, 1000); } else { fs.writeFileSync('build-info.json', '{}'); }`;
  const config = (url: string) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "hold.js"]]\n`;

  describe('cd/loop stop', () => {
    // The hang guard is the test's: were the grace never to run out, stop() would wait for ever.
    test('a deploy that outlasts the stop grace is interrupted cleanly: build gone, active untouched, lock free, history interrupted', { timeout: 60_000 }, async (t) => {
      const app = await appFixture(t, { config });
      const one = await app.commitVersion(1, { extra: { 'hold.js': HOLD } });
      await deployInProcess(app.root);
      const two = await app.commitVersion(2, { extra: { 'hold.js': HOLD } });

      const started = join(app.root, '..', 'started');
      const lines: string[] = [];
      const { ctx } = await testContext(app.root, { env: { T_STARTED: started } });
      const { loop } = createAppLoop(ctx, new LevelLog((l) => lines.push(l)));
      loop.poke({ kind: 'poll' });
      await until(() => exists(started), 'the build of the second commit to start');
      const pid = Number(await readFile(started, 'utf8'));

      // As mfd watch / serve after one SIGTERM: the build never ends by itself, so the grace runs out.
      await loop.stop(50, { signal: 'SIGTERM' });

      assert.equal(loop.busy, false);
      assert.equal(loop.poke({ kind: 'poll' }), false, 'a stopped loop takes no more runs');
      assert.equal(await isRunning(pid), false, 'the build was stopped with the deploy');
      assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${one}$`));
      assert.equal(await exists(join(app.root, '.mfd-deploy.lock')), false, 'the lock is released');
      assert.deepEqual((await readdir(app.root)).filter((n) => n.endsWith(`_${two}`)), [], 'the interrupted deployment is removed');
      const history = (await readFile(join(app.root, '.mfd', 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      const last = history.at(-1)!;
      assert.deepEqual([last.outcome, last.trigger, last.error?.code], ['interrupted', 'poll', 'INTERRUPTED']);
      assert.match(last.error.message, new RegExp(`^interrupted by SIGTERM while building mfd_\\d+_${two}, which is recorded failed and removed; active is untouched$`));
      assert.ok(lines.some((l) => new RegExp(`^error: deploy of ${two} failed: INTERRUPTED: interrupted by SIGTERM `).test(l)), lines.join('\n'));
      assert.ok(!lines.some((l) => /internal error/.test(l)), lines.join('\n'));
    });
  });
}
