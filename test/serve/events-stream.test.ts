// GET /api/events (serve/events-stream.ts) over real HTTP: a client that stops reading (a phone
// that went to sleep with the page open) must not make the server keep every event for it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as turn } from 'node:timers/promises';
import { EventStreams } from '../../src/serve/events-stream.ts';
import { LiveRuns } from '../../src/serve/events.ts';

describe('serve/events-stream', () => {
  test('a client that stops reading holds at most one run event buffered, and gets the latest when it reads again', async (t) => {
    const live = new LiveRuns({ now: () => 1_000 });
    const streams = new EventStreams(live);
    let stream!: ServerResponse;
    const server = createServer((_req, res) => {
      stream = res;
      streams.start(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const { port } = server.address() as AddressInfo;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/events' }, resolve);
      req.on('error', reject);
      req.end();
    });
    // Reads nothing more: the kernel's buffers fill, then whatever the server writes stays with it.
    response.pause();

    live.take({ type: 'run-started', runId: '20261201T100001Z-deploy-4242-2', command: 'deploy', trigger: 'poll', at: 1_000 });
    live.take({ type: 'step-started', step: 'build', detail: '1 command(s)' });
    // Some 30 MB of events: a build printing for a while, one event per turn of the event loop.
    for (let i = 0; i < 12_000; i++) {
      live.take({ type: 'output', chunk: `${String(i).padStart(6, '0')} ${'x'.repeat(290)}\n` });
      await turn();
    }
    assert.ok(stream.writableLength < 256 * 1024, `${stream.writableLength} bytes buffered for a client that reads nothing`);

    // Reading again, it is brought up to date: the last event it gets has the last line printed.
    const last = new Promise<string>((resolve) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('011999 ')) resolve(text);
      });
    });
    response.resume();
    const text = await last;
    const events = text.split('\n\n').filter((e) => e.startsWith('event: run'));
    assert.match(events.at(-1)!, /"011999 x+"\]/);
  });
});
