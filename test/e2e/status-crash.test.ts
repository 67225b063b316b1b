import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { mfd, startMfd, waitForOutput } from '../helpers/cli.ts';
import { startForge } from '../helpers/forge-api.ts';
import { IN_PID_NAMESPACE, testInPidNamespace } from '../helpers/pidns-file.ts';

// A kill -9 of the deploy: inside a private pid namespace (this file re-runs itself there), so the
// signal, and the recovery that follows, can reach nothing else on the machine.
if (!IN_PID_NAMESPACE) {
  testInPidNamespace('commit statuses after a kill -9 (inside a private pid namespace)', import.meta.filename);
} else {
  const TOKEN = 'status-token-crash';
  const node = JSON.stringify(process.execPath);
  const env = { MFD_STATUS_TOKEN: TOKEN, HOSTNAME: 'web1' };

  describe('commit statuses after a kill -9 (e2e, private pid namespace)', () => {
    test('a killed deploy leaves its pending marked under .mfd; the next deploy closes it with error "interrupted" before its own posts', async (t) => {
      const forge = await startForge({ provider: 'github', token: TOKEN });
      t.after(() => forge.close());
      const app = await appFixture(t, {
        config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "build.js"]]\n[status]\nprovider = "github"\napi_url = "${forge.apiUrl}"\nrepository = "me/app"\n`,
      });
      const sha = await app.commitVersion(1);
      const run = startMfd(['deploy'], { cwd: app.root, env: { ...env, MFD_TEST_PAUSE_AT: 'built' } });
      await waitForOutput(run, 'mfd-test-paused-at:built');
      await forge.waitFor(1);
      run.child.kill('SIGKILL');
      await run.done;
      assert.deepEqual(forge.accepted().map((p) => p.state), ['pending']);
      await access(join(app.root, '.mfd', 'status', `${sha}.json`));
      const status = await mfd(['status'], { cwd: app.root, env });
      assert.match(status.stdout, new RegExp(`^status: +pending left on ${sha.slice(0, 12)} by run \\S+, which was interrupted; the next deploy or rollback closes it with error$`, 'm'));

      const again = await mfd(['deploy'], { cwd: app.root, env });
      assert.equal(again.code, 0, again.stderr);
      const posts = forge.accepted();
      assert.deepEqual(posts.map((p) => [p.sha, p.state]), [[sha, 'pending'], [sha, 'error'], [sha, 'pending'], [sha, 'success']]);
      assert.match(posts[1]!.description, /^Interrupted: run \S+-deploy-\d+ ended before it could report$/);
      await assert.rejects(access(join(app.root, '.mfd', 'status', `${sha}.json`)), { code: 'ENOENT' });
    });
  });
}
