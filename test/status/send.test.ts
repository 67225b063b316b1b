import { describe, test } from 'node:test';
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
      const result = await sendStatus({ url: `http://${host}/api/v3/statuses`, headers: { Authorization: `Bearer ${TOKEN}` }, body: '{}' },
        { signal: new AbortController().signal, attemptMs: 10_000, now: () => Date.now(), secret: TOKEN });
      assert.deepEqual(result, { ok: false, attempts: 1, why: `${host} answered HTTP ${status}, a redirect to moved.example.com, which is not followed` });
      assert.equal(requests, 1, 'a redirect is not retried: it would say the same again');
    });
  }
});
