// Ctrl-C while the git server is still sending: the run's abort signal cuts the transfer at once
// (src/git/http-client.ts) instead of waiting for it to end or for [repo] timeout, and the deploy
// ends as interrupted with nothing half-built. In-process: the signal is the run's own.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture, BUILD_COMMANDS } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { deploy } from '../../src/run/deploy.ts';
import { InterruptedError } from '../../src/errors/index.ts';


describe('an interrupted transfer (in-process)', () => {
  for (const command of ['advertise', 'fetch'] as const) {
    // The hang guard is the test's: without the fix the deploy would wait out [repo] timeout (1h).
    test(`Ctrl-C while the server holds its ${command === 'fetch' ? 'pack' : 'ref advertisement'} ends the deploy as interrupted at once`, { timeout: 60_000 }, async (t) => {
      let hold = false;
      let held!: () => void;
      const holding = new Promise<void>((resolve) => (held = resolve));
      const app = await appFixture(t, {
        config: (url) => `[repo]\nurl = "${url}"\ntimeout = "1h"\n\n[build]\n${BUILD_COMMANDS}\n`,
        beforeChunk: async (entry) => {
          if (!hold || entry.command !== command) return;
          held();
          await new Promise(() => undefined); // never sends the rest
        },
      });
      const one = await app.commitVersion(1);
      await deploy((await testContext(app.root)).ctx, one);
      await app.commitVersion(2);

      hold = true;
      const run = await testContext(app.root);
      const deploying = deploy(run.ctx, 'main');
      await holding;
      run.controller.abort({ signal: 'SIGINT', hurry: new AbortController().signal });
      await assert.rejects(deploying, (error: unknown) => error instanceof InterruptedError && error.exitCode === 130);
      assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${one}$`));
      assert.deepEqual((await readdir(app.root)).filter((n) => n.startsWith('mfd_')).length, 1, 'nothing half-built is left');
      assert.ok(!existsSync(join(app.root, '.mfd-deploy.lock')), 'the deploy lock is released');
    });
  }
});
