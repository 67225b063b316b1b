import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appFixture } from '../helpers/app.ts';
import { mfd, startMfd } from '../helpers/cli.ts';
import { startForge } from '../helpers/forge-api.ts';

const TOKEN = 'status-token-overlap';
const node = JSON.stringify(process.execPath);
const env = { MFD_STATUS_TOKEN: TOKEN, HOSTNAME: 'web1' };

describe('commit statuses of two runs that overlap (e2e)', () => {
  test('a run still sending its final status once the lock is free is not taken for a killed one by the next run', async (t) => {
    const forge = await startForge({ provider: 'github', token: TOKEN });
    t.after(() => forge.close());
    const app = await appFixture(t, {
      config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "build.js"]]\n[status]\nprovider = "github"\napi_url = "${forge.apiUrl}"\nrepository = "me/app"\ntimeout = "1m"\n`,
    });
    const first = await app.commitVersion(1);
    const a = startMfd(['deploy'], { cwd: app.root, env });
    // Its pending is taken; its final post (the forge is slow) is still under way when it lets go of the lock.
    await forge.waitFor(1);
    forge.fail({ hang: true });
    await forge.waitFor(2);
    assert.equal(a.child.exitCode, null, 'the first deploy is still sending its final status');

    const second = await app.commitVersion(2);
    const b = await mfd(['deploy'], { cwd: app.root, env });
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(forge.accepted().map((p) => [p.sha, p.state, p.description.replace(/ .*/, '')]), [
      [first, 'pending', 'Deploying'], [second, 'pending', 'Deploying'], [second, 'success', 'Deployed'],
    ], 'no "Interrupted" error for the commit whose run is alive and about to post its success');

    // The forge goes away: the first deploy gives up its final post and keeps it for the next run.
    await forge.close();
    const ended = await a.done;
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(ended.stderr, /commit status success for \w{7} not posted to github/);
  });
});
