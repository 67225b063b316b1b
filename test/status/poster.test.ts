import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startForge, type Forge, type Provider } from '../helpers/forge-api.ts';
import { serveOnLoopback } from '../helpers/http.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { layoutOf } from '../../src/state/layout.ts';
import { Secret } from '../../src/config/secret.ts';
import type { StatusConfig } from '../../src/config/status.ts';
import { StatusPoster } from '../../src/status/poster.ts';
import { readMarkers } from '../../src/status/markers.ts';
import { describe as describeText } from '../../src/status/describe.ts';
import { retryAfterMs, sendStatus } from '../../src/status/send.ts';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';

const SHA = 'a'.repeat(40);
const SHA2 = 'b'.repeat(40);
/** What GitHub answers a posted success with: a 201 holding it. */
const GITHUB_SUCCESS = { provider: 'github', statuses: [201], field: 'state', value: 'success' } as const;
const TOKEN = 'tok-s3cret-value';

async function scene(t: TestContext, provider: Provider = 'github', options: { timeoutMs?: number; token?: string | null } = {}) {
  const forge = await startForge({ provider, token: TOKEN });
  t.after(() => forge.close());
  const root = await tmpRoot(t);
  const layout = layoutOf(root, process.pid);
  const config: StatusConfig = {
    provider, apiUrl: forge.apiUrl, context: 'mfd/app', timeoutMs: options.timeoutMs ?? 10_000,
    repository: provider === 'gitlab' ? { kind: 'project', id: 'me/app' } : { kind: 'owner', owner: 'me', name: 'app' },
    ...(options.token === null ? {} : { token: new Secret(options.token ?? TOKEN) }),
  };
  const reports: string[] = [];
  /** `pid`: the writing process, by default this one (a live run); an exited one's stands for a killed run. */
  const poster = (runId = 'run-1', pid = process.pid) =>
    new StatusPoster({ config, layout: layoutOf(root, pid), runId, now: () => Date.now(), report: (m, h) => reports.push(`${m} | ${h ?? ''}`) });
  return { forge, layout, config, reports, poster };
}

const states = (forge: Forge) => forge.accepted().map((a) => `${a.sha.slice(0, 1)} ${a.state}`);

describe('status poster', () => {
  for (const [provider, pending, failure] of [['github', 'pending', 'failure'], ['gitea', 'pending', 'failure'], ['gitlab', 'running', 'failed']] as const) {
    test(`${provider}: a pending then a final post reach the documented endpoint, with its auth header, states and fields`, async (t) => {
      const { forge, poster, reports } = await scene(t, provider);
      const p = poster();
      p.pending({ sha: SHA, state: 'pending', description: 'Deploying aaaaaaa to web1', targetUrl: 'https://mfd.example.com/runs/run-1' });
      p.final({ sha: SHA, state: 'failure', description: 'Build failed' });
      await p.drain();
      assert.deepEqual(reports, []);
      assert.deepEqual(forge.accepted().map((a) => [a.state, a.description, a.context]), [[pending, 'Deploying aaaaaaa to web1', 'mfd/app'], [failure, 'Build failed', 'mfd/app']]);
      assert.equal(forge.accepted()[0]!.targetUrl, 'https://mfd.example.com/runs/run-1');
      for (const r of forge.requests) assert.doesNotMatch(r.path, new RegExp(TOKEN), 'the token is never in the URL');
    });
  }

  test('retries 500, 429 (honouring Retry-After) and 503, and keeps one sha\'s posts in order', async (t) => {
    const { forge, poster, reports } = await scene(t);
    forge.fail({ status: 500 }, { status: 429, retryAfter: '0' }, { status: 503 });
    const p = poster();
    p.pending({ sha: SHA, state: 'pending', description: 'Deploying' });
    p.final({ sha: SHA, state: 'success', description: 'Deployed in 1s, healthy' });
    await p.drain();
    assert.deepEqual(reports, []);
    assert.deepEqual(forge.requests.map((r) => r.status), [500, 429, 503, 201, 201]);
    assert.deepEqual(states(forge), ['a pending', 'a success']);
  });

  test('retries a refused connection, then reports what it got', async (t) => {
    const { forge, poster, reports, config } = await scene(t);
    await forge.close();
    const p = poster();
    p.final({ sha: SHA, state: 'success', description: 'Deployed' });
    await p.drain();
    assert.equal(reports.length, 1);
    assert.match(reports[0]!, /not posted to github: gave up after 5 attempts: cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED/);
    assert.ok(config.apiUrl);
  });

  test('never retries another 4xx: one request, an error line naming the answer, and the final state kept for the next run', async (t) => {
    const { forge, poster, reports, layout } = await scene(t, 'gitea', { token: 'wrong-token' });
    const p = poster();
    p.final({ sha: SHA, state: 'failure', description: 'Build failed' });
    await p.drain();
    assert.equal(forge.requests.length, 1);
    assert.equal(forge.requests[0]!.status, 401);
    assert.equal(reports.length, 1);
    assert.match(reports[0]!, /commit status failure for aaaaaaa not posted to gitea: 127\.0\.0\.1:\d+ answered HTTP 401: Bad credentials/);
    assert.doesNotMatch(reports[0]!, /wrong-token/);
    const [marker] = await readMarkers(layout);
    assert.equal(marker!.final!.state, 'failure');
    assert.match(marker!.error!, /HTTP 401/);
  });

  test('a hanging forge holds the end for at most [status] timeout, then the post is reported as given up', async (t) => {
    const { forge, poster, reports } = await scene(t, 'github', { timeoutMs: 1_000 });
    forge.fail({ hang: true }, { hang: true }, { hang: true }, { hang: true }, { hang: true });
    const p = poster();
    p.pending({ sha: SHA, state: 'pending', description: 'Deploying' });
    p.final({ sha: SHA, state: 'success', description: 'Deployed' });
    await p.drain();
    assert.ok(forge.requests.length >= 1);
    assert.equal(forge.accepted().length, 0);
    assert.equal(reports.length, 2, reports.join('\n'));
    assert.match(reports[0]!, /pending for aaaaaaa not posted to github: (gave up: )?no answer from 127\.0\.0\.1:\d+ in time/);
  });

  test('an attempt that runs out of its own time is "no answer in time", not "cannot reach"', async (t) => {
    // Takes the connection and never answers.
    const host = await serveOnLoopback(t, () => undefined);
    // The attempt's limit (100 ms) comes well before the budget (300 ms): the timeout is the attempt's own.
    const result = await sendStatus({ url: `http://${host}/status`, headers: {}, body: '{}', answer: GITHUB_SUCCESS }, { signal: AbortSignal.timeout(300), attemptMs: 100, now: () => Date.now() });
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.why, `gave up: no answer from ${host} in time`);
  });

  test('of an answer only its first 64 KiB are read, however long the forge makes it', async (t) => {
    // 64 MiB, far more than loopback's socket buffers hold: each chunk goes once the one before it
    // was taken, so the forge gets to the end only if mfd reads it all.
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    let closed!: Promise<unknown>;
    const host = await serveOnLoopback(t, (req, res) => {
      req.resume();
      closed = once(res, 'close');
      res.writeHead(422, { 'Content-Type': 'text/plain' });
      res.write('Validation Failed\n');
      const more = (error?: Error | null) => {
        if (error || res.destroyed) return;
        if (sent === 1024) return void res.end();
        sent++;
        res.write(chunk, more);
      };
      more();
    });
    const result = await sendStatus({ url: `http://${host}/status`, headers: {}, body: '{}', answer: GITHUB_SUCCESS }, { signal: new AbortController().signal, attemptMs: 60_000, now: () => Date.now() });
    assert.equal(!result.ok && result.why, `${host} answered HTTP 422: Validation Failed`);
    await closed;
    assert.ok(sent < 1024, `the forge sent ${sent} of its 1024 chunks: the rest was never read`);
  });

  test('a pending leaves a marker until its final state is posted; a killed run\'s marker is closed with error by the next run', async (t) => {
    const { forge, poster, layout, reports } = await scene(t);
    // The killed run's process is gone: a child that has exited stands for it.
    const gone = spawn(process.execPath, ['-e', '']);
    await once(gone, 'exit');
    const killed = poster('run-killed', gone.pid!);
    killed.pending({ sha: SHA, state: 'pending', description: 'Deploying' });
    await killed.drain();
    assert.deepEqual((await readMarkers(layout)).map((m) => [m.sha, m.runId, m.final]), [[SHA, 'run-killed', undefined]]);
    const next = poster('run-2');
    await next.closeStale((m) => reports.push(m));
    next.pending({ sha: SHA, state: 'pending', description: 'Deploying again' });
    next.final({ sha: SHA, state: 'success', description: 'Deployed' });
    await next.drain();
    assert.deepEqual(reports, []);
    assert.deepEqual(forge.accepted().map((a) => [a.state, a.description]), [
      ['pending', 'Deploying'], ['error', 'Interrupted: run run-killed ended before it could report'], ['pending', 'Deploying again'], ['success', 'Deployed'],
    ]);
    assert.deepEqual(await readMarkers(layout), []);
  });

  test('a final state that could not be posted is sent again by the next run, and two shas do not wait for each other', async (t) => {
    const { forge, poster, layout } = await scene(t);
    forge.fail({ status: 401 });
    const first = poster('run-1');
    first.final({ sha: SHA, state: 'failure', description: 'Build failed' });
    await first.drain();
    const next = poster('run-2');
    await next.closeStale(() => {});
    next.final({ sha: SHA2, state: 'success', description: 'Deployed' });
    await next.drain();
    assert.deepEqual(states(forge).sort(), ['a failure', 'b success']);
    assert.deepEqual(await readMarkers(layout), []);
  });

  test('a final state the forge has refused for a week is given up, said once; a younger one is sent again, its first day kept', async (t) => {
    const { forge, poster, layout, reports } = await scene(t);
    forge.fail({ status: 401 }, { status: 401 });
    const day = 24 * 3_600_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const { writeMarker } = await import('../../src/status/markers.ts');
    const final = { state: 'success' as const, description: 'Deployed' };
    await writeMarker(layout, { sha: SHA, runId: 'run-old', at: iso(Date.now() - day), since: iso(Date.now() - 8 * day), final, error: 'HTTP 401: Bad credentials' });
    const young = iso(Date.now() - 2 * day);
    await writeMarker(layout, { sha: SHA2, runId: 'run-young', at: iso(Date.now() - day), since: young, final });
    const next = poster('run-2');
    await next.closeStale(() => {});
    await next.drain();
    assert.deepEqual(forge.requests.map((r) => r.path.includes(SHA2)), [true], 'only the younger one was sent');
    assert.equal(reports.filter((r) => r.startsWith(`gave up commit status success for ${SHA.slice(0, 7)}`)).length, 1, reports.join('\n'));
    assert.match(reports.join('\n'), /has not taken it since .* \(last: HTTP 401: Bad credentials\)/);
    assert.deepEqual((await readMarkers(layout)).map((m) => [m.sha, m.since]), [[SHA2, young]], 'refused again, it keeps the day it was first owed');
  });

  test('without a token nothing is sent or kept, and that is said once', async (t) => {
    const { forge, poster, reports, layout } = await scene(t, 'github', { token: null });
    const p = poster();
    p.pending({ sha: SHA, state: 'pending', description: 'Deploying' });
    p.final({ sha: SHA, state: 'success', description: 'Deployed' });
    await p.drain();
    assert.equal(forge.requests.length, 0);
    assert.equal(reports.length, 1);
    assert.match(reports[0]!, /no token \| set \[status\] token or token_file, or MFD_STATUS_TOKEN/);
    assert.deepEqual(await readdir(join(layout.state, 'status')).catch(() => []), []);
  });

  test('a marker that is not valid is ignored with a warning naming it', async (t) => {
    const { layout } = await scene(t);
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(join(layout.state, 'status'), { recursive: true });
    await writeFile(join(layout.state, 'status', `${SHA}.json`), JSON.stringify({ sha: SHA2, runId: 'x', at: new Date().toISOString() }));
    await writeFile(join(layout.state, 'status', `${SHA2}.json`), 'null');
    const warnings: string[] = [];
    assert.deepEqual(await readMarkers(layout, (m) => warnings.push(m)), []);
    assert.equal(warnings.length, 2);
    assert.match(warnings.join('\n'), new RegExp(`ignored .mfd/status/${SHA}.json: it names ${SHA2}`));
    assert.ok(await readFile(join(layout.state, 'status', `${SHA}.json`), 'utf8'), 'left alone');
  });

  test('a marker larger than any state file mfd writes is not read, and is named in a warning', async (t) => {
    const { layout } = await scene(t);
    const { mkdir, truncate, writeFile } = await import('node:fs/promises');
    await mkdir(join(layout.state, 'status'), { recursive: true });
    const big = join(layout.state, 'status', `${SHA}.json`);
    await writeFile(big, '');
    await truncate(big, 65 * 1024 ** 2); // sparse: takes no space
    const warnings: string[] = [];
    assert.deepEqual(await readMarkers(layout, (m) => warnings.push(m)), []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`ignored .mfd/status/${SHA}.json: .*it is ${65 * 1024 ** 2} bytes`));
  });
});

describe('status descriptions', () => {
  test('are one line, at most 140 characters, with credentials masked and shas shortened', () => {
    const text = describeText(`cannot reach https://alice:hunter2@git.example.com/me/app.git for mfd_1763800000_${SHA}:\n ${'x'.repeat(200)}`);
    assert.ok(text.length <= 140);
    assert.doesNotMatch(text, /hunter2|\n/);
    assert.match(text, /^Cannot reach https:\/\/\*\*\*@git\.example\.com\/me\/app\.git for aaaaaaa: x+\u2026$/);
  });

  test('Retry-After is read as seconds or as an HTTP date', () => {
    assert.equal(retryAfterMs('3', 0), 3000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(retryAfterMs('soon', 0), undefined);
    assert.equal(retryAfterMs(null, 0), undefined);
  });
});
