import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serveOnLoopback } from '../helpers/http.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { layoutOf } from '../../src/state/layout.ts';
import { Secret } from '../../src/config/secret.ts';
import type { StatusConfig } from '../../src/config/status.ts';
import { StatusPoster } from '../../src/status/poster.ts';
import { sendStatus } from '../../src/status/send.ts';

const SHA = 'a'.repeat(40);
/** What GitHub answers a posted success with: a 201 holding it. */
const GITHUB_SUCCESS = { provider: 'github', statuses: [201], field: 'state', value: 'success' } as const;
const TOKEN = 'tok-0123456789abcdefghijklmnopqrstuv';

describe('status poster, a forge that echoes the token', () => {
  test('no part of the token reaches the report or the marker, even where the forge\'s message is cut', async (t) => {
    // A proxy or forge that quotes the credential it refused, the token straddling the 120
    // characters of the message mfd keeps: what is left of it is still a secret.
    const message = `Bad credentials: ${'x'.repeat(120 - 'Bad credentials: '.length - 12)}${TOKEN}`;
    const host = await serveOnLoopback(t, (req, res) => {
      req.resume();
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message }));
    });
    const root = await tmpRoot(t);
    const layout = layoutOf(root, process.pid);
    const config: StatusConfig = {
      provider: 'github', apiUrl: `http://${host}/api/v3`, context: 'mfd/app', timeoutMs: 10_000,
      repository: { kind: 'owner', owner: 'me', name: 'app' }, token: new Secret(TOKEN),
    };
    const reports: string[] = [];
    const poster = new StatusPoster({ config, layout, runId: '20260101T000000Z-deploy-1', now: () => Date.now(), report: (m, h) => reports.push(`${m} | ${h ?? ''}`) });
    poster.final({ sha: SHA, state: 'success', description: 'Deployed' });
    await poster.drain();
    assert.equal(reports.length, 1);
    assert.match(reports[0]!, /answered HTTP 401: Bad credentials: x+\*\*\*/);
    const marker = await readFile(join(layout.state, 'status', `${SHA}.json`), 'utf8');
    for (const text of [reports[0]!, marker]) assert.doesNotMatch(text, new RegExp(TOKEN.slice(0, 8)), text);
  });
});

describe('sending a status, a forge that redirects', () => {
  for (const status of [301, 302, 307, 308]) {
    test(`HTTP ${status} fails at once, naming the code and where it pointed, never the token`, async (t) => {
      let requests = 0;
      const host = await serveOnLoopback(t, (req, res) => {
        requests++;
        req.resume();
        res.writeHead(status, { Location: `https://${TOKEN}@moved.example.com/api/v3/statuses?access_token=${TOKEN}` });
        res.end();
      });
      const result = await sendStatus({ url: `http://${host}/api/v3/statuses`, headers: { Authorization: `Bearer ${TOKEN}` }, body: '{}', answer: GITHUB_SUCCESS },
        { signal: new AbortController().signal, attemptMs: 10_000, now: () => Date.now(), secret: TOKEN });
      assert.deepEqual(result, { ok: false, attempts: 1, why: `${host} answered HTTP ${status}, a redirect to moved.example.com, which is not followed` });
      assert.equal(requests, 1, 'a redirect is not retried: it would say the same again');
    });
  }
});

describe('status poster, a 2xx answer that is not the forge\'s status', () => {
  // A captive portal, a proxy's page, or an api_url that is some other service: what answers 2xx
  // there did not put the status on the commit. Each forge answers its create-status call with the
  // status it made: GitHub 201 {state}, Gitea 201 {status}, GitLab 201 (or 200) {status}.
  const cases = [
    { provider: 'github', status: 200, type: 'text/html; charset=utf-8', body: '<html><body>Welcome! Log in: password=hunter2</body></html>' },
    { provider: 'github', status: 201, type: 'application/json', body: JSON.stringify({ state: 'pending', note: 'hunter2' }) },
    { provider: 'github', status: 200, type: 'application/json', body: JSON.stringify({ state: 'success' }) },
    { provider: 'gitea', status: 201, type: 'application/json', body: JSON.stringify({ state: 'success' }) },
    { provider: 'gitlab', status: 201, type: 'application/json', body: JSON.stringify({ state: 'success' }) },
    { provider: 'gitlab', status: 204, type: 'application/json', body: '' },
  ] as const;
  for (const c of cases) {
    test(`${c.provider}: HTTP ${c.status} ${c.type.split(';')[0]} ${c.body.slice(0, 30)} is a failed post, said with its code and type, the final state kept`, async (t) => {
      let requests = 0;
      const host = await serveOnLoopback(t, (req, res) => {
        requests++;
        req.resume();
        res.writeHead(c.status, { 'Content-Type': c.type });
        res.end(c.body);
      });
      const { poster, reports, layout } = await posterFor(t, c.provider, `http://${host}`);
      poster.final({ sha: SHA, state: 'success', description: 'Deployed' });
      await poster.drain();
      assert.equal(requests, 1, 'not retried: it would answer the same again');
      assert.equal(reports.length, 1, reports.join('\n'));
      assert.equal(reports[0], `commit status success for aaaaaaa not posted to ${c.provider}: ${host} answered HTTP ${c.status} (${c.type.split(';')[0]}), `
        + `not the status ${c.provider} answers with (is status.api_url the forge's API?) | the run's outcome is unchanged; the next deploy or rollback sends it again`);
      const marker = JSON.parse(await readFile(join(layout.state, 'status', `${SHA}.json`), 'utf8')) as { final?: { state: string } };
      assert.equal(marker.final?.state, 'success', 'owed to the next run');
      assert.doesNotMatch(reports[0]! + JSON.stringify(marker), /hunter2|tok-/);
    });
  }

  test('gitlab: HTTP 200 with the status it was sent counts as posted', async (t) => {
    const host = await serveOnLoopback(t, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const { state } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { state: string };
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ id: 1, status: state }));
      });
    });
    const { poster, reports, layout } = await posterFor(t, 'gitlab', `http://${host}`);
    poster.final({ sha: SHA, state: 'failure', description: 'Build failed' });
    await poster.drain();
    assert.deepEqual(reports, []);
    await assert.rejects(readFile(join(layout.state, 'status', `${SHA}.json`), 'utf8'), { code: 'ENOENT' });
  });
});

async function posterFor(t: TestContext, provider: 'github' | 'gitea' | 'gitlab', apiUrl: string) {
  const root = await tmpRoot(t);
  const layout = layoutOf(root, process.pid);
  const config: StatusConfig = {
    provider, apiUrl, context: 'mfd/app', timeoutMs: 10_000, token: new Secret(TOKEN),
    repository: provider === 'gitlab' ? { kind: 'project', id: 'me/app' } : { kind: 'owner', owner: 'me', name: 'app' },
  };
  const reports: string[] = [];
  const poster = new StatusPoster({ config, layout, runId: '20260101T000000Z-deploy-1', now: () => Date.now(), report: (m, h) => reports.push(`${m} | ${h ?? ''}`) });
  return { poster, reports, layout };
}
