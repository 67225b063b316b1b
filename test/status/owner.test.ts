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
import { readMarkers, removeMarker, writeMarker } from '../../src/status/markers.ts';
import { holdThreadPool } from '../helpers/pool.ts';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  return { forge, root, layout, reports, poster };
}

describe('status markers: whose they are, and for how long they are owed', () => {
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

  test('a run whose final post fails leaves a later run\'s marker for that commit in place, not its own owed state', async (t) => {
    const { forge, layout, reports, poster } = await scene(t);
    const first = poster('run-1');
    first.pending({ sha: SHA, state: 'pending', description: 'Deploying' });
    await forge.waitFor(1);
    // Run 1's final post is on its way (the lock let go) and the forge refuses it only later.
    let refuse!: () => void;
    forge.fail({ status: 401, after: new Promise<void>((resolve) => (refuse = resolve)) });
    first.final({ sha: SHA, state: 'failure', description: 'Build failed' });
    await forge.waitFor(2);
    // Run 2 deploys the same commit meanwhile: its pending marker is now the commit's.
    const second = poster('run-2');
    second.pending({ sha: SHA, state: 'pending', description: 'Deploying again' });
    await second.drain();
    refuse();
    await first.drain();
    assert.equal(reports.length, 1, reports.join('\n'));
    assert.match(reports[0]!, /commit status failure for aaaaaaa not posted to github: .*HTTP 401/);
    // Run 1's failure is not owed over run 2's deploy (the next run would post it on top of run 2's
    // state), and were run 2 killed, its pending is still there to close.
    assert.deepEqual((await readMarkers(layout)).map((m) => [m.runId, m.final]), [['run-2', undefined]]);
  });

  test('a marker another run writes while this run removes its own is not removed with it', async (t) => {
    const { root, layout } = await scene(t);
    const at = new Date().toISOString();
    await writeMarker(layout, { sha: SHA, runId: 'run-1', at, pid: process.pid });
    // Run 1's final post is taken and its marker goes; the removal's next file call waits in the pool.
    const release = holdThreadPool(t, root);
    const removing = removeMarker(layout, SHA, 'run-1');
    await new Promise(setImmediate);
    // Run 2 writes its pending marker right then, as writeMarker does: a temp file renamed over the name.
    const file = join(layout.state, 'status', `${SHA}.json`);
    writeFileSync(`${file}.run-2`, `${JSON.stringify({ sha: SHA, runId: 'run-2', at, pid: process.pid })}\n`);
    renameSync(`${file}.run-2`, file);
    await release();
    await removing;
    // Were run 2 killed now, the next run must still find its pending to close.
    assert.deepEqual((await readMarkers(layout)).map((m) => m.runId), ['run-2']);
  });

  test('a final state owed "since" a time in the future (a clock set back since) is still given up a week on', async (t) => {
    const { forge, layout, reports, poster } = await scene(t);
    const day = 24 * 3_600_000;
    const now = Date.now();
    const later = new Date(now + 365 * day).toISOString();
    forge.fail({ status: 401 });
    await writeMarker(layout, { sha: SHA, runId: 'run-1', at: later, since: later, final: { state: 'success', description: 'Deployed' } });
    // Today's run: refused again, the marker kept, owed since no later than now.
    const next = poster('run-2', () => now);
    await next.closeStale(() => {});
    await next.drain();
    const [kept] = await readMarkers(layout);
    assert.ok(kept && Date.parse(kept.since!) <= now, `owed since ${kept?.since}, after ${new Date(now).toISOString()}`);
    // A run eight days on gives it up instead of sending it again.
    const week = poster('run-3', () => now + 8 * day);
    await week.closeStale(() => {});
    await week.drain();
    assert.equal(forge.requests.length, 1, 'sent once, by the run of today');
    assert.equal(reports.filter((r) => r.startsWith(`gave up commit status success for ${SHA.slice(0, 7)}`)).length, 1, reports.join('\n'));
    assert.deepEqual(await readMarkers(layout), []);
  });
});
