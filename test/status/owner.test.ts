// Markers of two runs on one commit, and markers whose clock went wrong: what a run may remove
// and what it gives up (src/status/poster.ts), against the stand-in forge on 127.0.0.1.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startForge } from '../helpers/forge-api.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { layoutOf } from '../../src/state/layout.ts';
import { Secret } from '../../src/config/secret.ts';
import type { StatusConfig } from '../../src/config/status.ts';
import { StatusPoster } from '../../src/status/poster.ts';
import { readMarkers } from '../../src/status/markers.ts';
import type { TestContext } from 'node:test';

const SHA = 'a'.repeat(40);
const TOKEN = 'tok-owner-s3cret';

async function scene(t: TestContext) {
  const forge = await startForge({ provider: 'github', token: TOKEN });
  t.after(() => forge.close());
  const root = await tmpRoot(t);
  const layout = layoutOf(root, process.pid);
  const config: StatusConfig = {
    provider: 'github', apiUrl: forge.apiUrl, context: 'mfd/app', timeoutMs: 10_000,
    repository: { kind: 'owner', owner: 'me', name: 'app' }, token: new Secret(TOKEN),
  };
  const reports: string[] = [];
  const poster = (runId: string, now: () => number = () => Date.now()) =>
    new StatusPoster({ config, layout, runId, now, report: (m, h) => reports.push(`${m} | ${h ?? ''}`) });
  return { forge, layout, reports, poster };
}

describe('status markers of overlapping runs', () => {
  test('a run whose final post succeeds leaves a later run\'s pending marker for that commit in place', async (t) => {
    const { forge, layout, reports, poster } = await scene(t);
    // Run 1 posts its pending, lets go of the lock, and its final post is still to come.
    const first = poster('run-1');
    first.pending({ sha: SHA, state: 'pending', description: 'Deploying' });
    await forge.waitFor(1);
    // Run 2 deploys the same commit meanwhile: its own pending marker replaces run 1's.
    const second = poster('run-2');
    second.pending({ sha: SHA, state: 'pending', description: 'Deploying again' });
    await second.drain();
    first.final({ sha: SHA, state: 'success', description: 'Deployed' });
    await first.drain();
    assert.deepEqual(reports, []);
    assert.deepEqual(forge.accepted().map((a) => a.state), ['pending', 'pending', 'success']);
    // Were run 2 killed now, the next run must still find its pending to close.
    assert.deepEqual((await readMarkers(layout)).map((m) => [m.runId, m.final]), [['run-2', undefined]]);
  });
});
