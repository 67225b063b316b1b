// The status page over state grown large, over real HTTP, in-process: the real webhook server with
// the page's routes, on a real Context of an app root whose .mfd/ the test fills as runs would.
// What a request reads must be what the page shows, so that `mfd serve`, which answers webhooks
// from the same event loop, is never held by a page view.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAppLoop } from '../../src/cd/app-loop.ts';
import { Secret } from '../../src/config/secret.ts';
import { LiveLog, LiveRuns } from '../../src/serve/events.ts';
import { pageAccessOf } from '../../src/serve/page-access.ts';
import { statusRoutes } from '../../src/serve/page-routes.ts';
import { startWebhookServer, type WebhookServer } from '../../src/serve/server.ts';
import { RUNS_SHOWN } from '../../src/serve/status-api.ts';
import type { HistoryEntry } from '../../src/state/history.ts';
import { layoutOf, type Layout } from '../../src/state/layout.ts';
import { testContext } from '../helpers/context.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { send } from './deliveries.ts';

const SHA = 'b'.repeat(40);

/** The run id runlog.ts gives the n-th run, a minute apart: ids sort in time order. */
const runId = (n: number) => `${new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-deploy-${100 + (n % 900)}`;

/** A history line as a loop's failed deploy writes it: its steps, its error. */
function run(layout: Layout, n: number): HistoryEntry {
  const at = new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();
  return {
    runId: runId(n), command: 'deploy', user: 'deploy', trigger: `webhook 6f1c-${n}`, ref: 'refs/heads/main', sha: SHA,
    deployment: `mfd_${1_767_225_600 + n * 60}_${SHA}`, start: at, end: at,
    steps: ['resolve', 'fetch', 'checkout', 'build'].map((step) => ({ step, ms: 120, ok: step !== 'build' })),
    outcome: 'failed', error: { code: 'BUILD_FAILED', message: 'build command 1 of 1 (sh build.sh) exited 3' }, log: layout.log(runId(n)),
  };
}

/** An app root with no deployment yet, served as `mfd serve` wires it, on 127.0.0.1. */
async function servedRoot(t: TestContext): Promise<{ layout: Layout; server: WebhookServer }> {
  const root = await tmpRoot(t);
  await writeFile(join(root, 'mfd.toml'), '[repo]\nurl = "http://127.0.0.1:9/app.git"\n[build]\ncommands = [["sh", "build.sh"]]\n');
  const { ctx } = await testContext(root);
  const live = new LiveRuns({ now: ctx.now });
  const log = new LiveLog(() => undefined, live);
  const app = createAppLoop(ctx, log);
  const access = await pageAccessOf(ctx.config.serve, { file: ctx.config.file, env: ctx.env, warn: () => undefined });
  const page = statusRoutes({ access, live, layout: ctx.layout, status: { ctx, branch: 'refs/heads/main', live: () => live.run, latest: () => undefined } });
  const server = await startWebhookServer({
    listen: { host: '127.0.0.1', port: 0 }, secret: new Secret('page-state-secret'), maxBodyBytes: 64 * 1024,
    watch: { ref: 'refs/heads/main', repository: 'http://127.0.0.1:9/app.git' }, loop: app.loop, log, page,
  });
  t.after(async () => {
    await server.close();
    await app.loop.stop(30_000);
  });
  return { layout: layoutOf(root, process.pid), server };
}

describe('serve/page over large state', () => {
  test('over a history of 4,000 runs the page lists the newest ones and never parses the runs it does not show', async (t) => {
    const { layout, server } = await servedRoot(t);
    await mkdir(layout.state, { recursive: true });
    const runs = 4000;
    // A line torn by a kill long ago, and one among the runs the page shows.
    const lines = Array.from({ length: runs }, (_, n) => (n === 0 ? '{"runId": "torn' : n === runs - 5 ? '{"runId": "also torn' : JSON.stringify(run(layout, n))));
    await writeFile(layout.history, `${lines.join('\n')}\n`);

    const api = await send(`${server.url}/api/status`, { method: 'GET' });
    assert.equal(api.status, 200, api.body);
    const doc = api.json as { runs: { runId: string }[]; problems: string[] };
    const newest = Array.from({ length: runs }, (_, n) => runs - 1 - n).filter((n) => n !== runs - 5).slice(0, RUNS_SHOWN);
    assert.deepEqual(doc.runs.map((r) => r.runId), newest.map(runId));
    // Read whole, the file's first line was parsed (and reported) to show the last twenty.
    assert.deepEqual(doc.problems, [`${layout.history}, line 5 from the end: skipped a line that is not JSON (cut short by a crash?)`]);
    const html = await send(`${server.url}/`, { method: 'GET' });
    assert.equal(html.status, 200);
    assert.equal(html.body.match(/<tr class="run">/g)?.length, RUNS_SHOWN);
  });
});

describe('serve/page over many records', () => {
  test('over 2,000 failed builds\' records, read once per view, a run whose line names no sha shows the commit its record says it tried', async (t) => {
    const { layout, server } = await servedRoot(t);
    await mkdir(layout.records, { recursive: true });
    const builds = 2000;
    // What a long run of failing pushes leaves: a record per failed build, its directory long gone.
    for (let n = 0; n < builds; n++) {
      const name = `mfd_${1_767_225_600 + n * 60}_${SHA}`;
      const at = new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();
      await writeFile(layout.record(name), `${JSON.stringify({ name, sha: SHA, ref: 'refs/heads/main', fingerprint: 'f'.repeat(64), state: 'failed', createdAt: at, updatedAt: at, runId: runId(n), error: 'build command 1 of 1 (sh build.sh) exited 3' }, null, 2)}\n`);
    }
    // The newest run's line names no sha: the record its run built says which commit it tried.
    await writeFile(layout.history, `${JSON.stringify({ ...run(layout, builds - 1), sha: null })}\n`);

    const api = await send(`${server.url}/api/status`, { method: 'GET' });
    assert.equal(api.status, 200, api.body);
    const doc = api.json as { runs: { runId: string; commit: string | null }[]; problems: string[] };
    assert.deepEqual(doc.runs.map((r) => [r.runId, r.commit]), [[runId(builds - 1), SHA]]);
    assert.deepEqual(doc.problems, []);
  });
});
