// The discovery a fetch or a listing opens with, sent ahead of isomorphic-git (git/head-start.ts):
// taken by iso-git's identical request, so the server is asked once; cut when nobody takes it.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { fetchCommit, resolveRef } from '../../src/git/git.ts';
import { createGitHttp } from '../../src/git/http-client.ts';
import { withHeadStart } from '../../src/git/head-start.ts';
import { startListing } from '../../src/git/prefetch.ts';
import { connect } from '../../src/git/transport.ts';
import { GitFetchError } from '../../src/errors/index.ts';
import { gitFixture as fixture } from '../helpers/git-fixture.ts';
import { eventually } from '../helpers/hold.ts';

const commands = (f: { server: { requests: readonly { command: string }[] } }) => f.server.requests.map((r) => r.command);

describe('git: a discovery sent ahead', () => {
  test('a fetch takes the advertisement sent before it: the server answers it once', async (t) => {
    const f = await fixture(t);
    const conn = connect(f.remote);
    conn.startDiscovery('fetch');
    // Answered before the fetch even starts: what the fetch then gets can only be that answer.
    await eventually('the advertisement sent ahead', async () => (f.server.requests.length === 1 ? true : undefined));
    assert.deepEqual(await fetchCommit({ conn, gitdir: f.gitdir, sha: f.c[3] }), { fetched: true, repaired: 0 });
    assert.deepEqual(commands(f), ['advertise', 'fetch']);
    conn.discard();
  });

  test('a ref listing takes the v2 capabilities sent before it', async (t) => {
    const f = await fixture(t);
    const conn = connect(f.remote);
    conn.startDiscovery('list');
    await eventually('the capabilities sent ahead', async () => (f.server.requests.length === 1 ? true : undefined));
    assert.deepEqual(await resolveRef({ conn, gitdir: f.gitdir, ref: 'main' }), { sha: f.c[3], ref: 'refs/heads/main' });
    assert.deepEqual(commands(f), ['advertise', 'ls-refs']);
  });

  test('the ls-refs request goes with the capabilities, not after their answer, and iso-git takes both', async (t) => {
    const f = await fixture(t);
    for (const [ref, want] of [['main', { sha: f.c[3], ref: 'refs/heads/main' }], ['HEAD', { sha: f.c[3], ref: 'refs/heads/main' }], ['refs/tags/v2', { sha: f.c[2], ref: 'refs/tags/v2' }]] as const) {
      f.server.resetCounters();
      const conn = connect(f.remote);
      startListing(conn, ref);
      // Both answered before the resolve starts: what it gets can only be those answers.
      await eventually('both requests sent ahead', async () => (f.server.requests.filter((r) => r.status !== 0).length === 2 ? true : undefined));
      assert.deepEqual(await resolveRef({ conn, gitdir: f.gitdir, ref }), want);
      assert.deepEqual(commands(f).sort(), ['advertise', 'ls-refs'], `${ref}: each asked once`);
      conn.discard();
    }
  });

  test('an ls-refs request sent ahead that asks for other refs is not taken: iso-git asks its own', async (t) => {
    const f = await fixture(t);
    const conn = connect(f.remote);
    startListing(conn, 'feature');
    await eventually('both requests sent ahead', async () => (f.server.requests.filter((r) => r.status !== 0).length === 2 ? true : undefined));
    assert.deepEqual(await resolveRef({ conn, gitdir: f.gitdir, ref: 'main' }), { sha: f.c[3], ref: 'refs/heads/main' });
    assert.deepEqual(commands(f).sort(), ['advertise', 'ls-refs', 'ls-refs']);
    conn.discard();
  });

  test('with credentials only the capabilities go ahead: iso-git sends them after a 401, so no listing sent before could be its own', async (t) => {
    const auth = { username: 'deploy', password: 's3cret' };
    const f = await fixture(t, { auth, remoteAuth: { kind: 'basic', ...auth } });
    const conn = connect(f.remote);
    startListing(conn, 'main');
    await eventually('the capabilities sent ahead', async () => (f.server.requests.length >= 1 ? true : undefined));
    assert.deepEqual(await resolveRef({ conn, gitdir: f.gitdir, ref: 'main' }), { sha: f.c[3], ref: 'refs/heads/main' });
    // The one sent ahead (401, taken), iso-git's with credentials, its listing: nothing more.
    assert.deepEqual(f.server.requests.map((r) => [r.command, r.status]), [['advertise', 401], ['advertise', 200], ['ls-refs', 200]]);
    conn.discard();
  });

  test('a listing is sent ahead only for a ref that needs one: never for a full sha, with or without ~N', async (t) => {
    const f = await fixture(t);
    const unneeded = [connect(f.remote), connect(f.remote)];
    startListing(unneeded[0]!, f.c[3]);
    startListing(unneeded[1]!, `${f.c[3].toUpperCase()}~2`);
    const conn = connect(f.remote);
    startListing(conn, 'main');
    await eventually('the listing sent ahead', async () => (f.server.requests.length >= 1 ? true : undefined));
    assert.deepEqual(await resolveRef({ conn, gitdir: f.gitdir, ref: 'main' }), { sha: f.c[3], ref: 'refs/heads/main' });
    // Sent before the one for main, anything the full shas had sent would have been answered first.
    assert.deepEqual(commands(f), ['advertise', 'ls-refs']);
    for (const c of [...unneeded, conn]) c.discard();
  });

  test('only the identical request takes it: a fetch does not take the v2 capabilities', async (t) => {
    const f = await fixture(t);
    const conn = connect(f.remote);
    conn.startDiscovery('list');
    await eventually('the capabilities sent ahead', async () => (f.server.requests.length === 1 ? true : undefined));
    await fetchCommit({ conn, gitdir: f.gitdir, sha: f.c[1] });
    assert.deepEqual(commands(f), ['advertise', 'advertise', 'fetch']);
    conn.discard();
  });

  test('a discovery sent ahead to a server that refuses fails the fetch as the fetch itself would, and unasked it fails nothing', async (t) => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/app.git`;
    await new Promise((r) => server.close(r));
    const f = await fixture(t);
    const remote = { url, auth: { kind: 'none' as const } };
    const unasked = connect(remote);
    unasked.startDiscovery('fetch');
    unasked.discard();
    const conn = connect(remote);
    conn.startDiscovery('fetch');
    const error = await fetchCommit({ conn, gitdir: f.gitdir, sha: f.c[0] }).catch((e: unknown) => e);
    assert.ok(error instanceof GitFetchError, String(error));
    assert.match(error.message, /connection refused/);
  });

  test('a response sent ahead and not taken is cut, its socket closed', { timeout: 30_000 }, async () => {
    const seen: IncomingMessage[] = [];
    // Answers headers and half a body, then holds the response open, as a slow server would.
    const server = createServer((req, res) => {
      seen.push(req);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part of it');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const http = withHeadStart(createGitHttp({ timeoutMs: 10_000 }));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
      http.start({ method: 'GET', url, headers: {} });
      await eventually('the request sent ahead', async () => (seen.length === 1 ? true : undefined));
      const closed = once(seen[0]!.socket, 'close');
      http.discard();
      await closed;
      // A request sent ahead and not answered yet is cut too: a silent server cannot hold mfd.
      const silent = createServer(() => undefined);
      silent.listen(0, '127.0.0.1');
      await once(silent, 'listening');
      try {
        const quiet = withHeadStart(createGitHttp({ timeoutMs: 60_000 }));
        const held = once(silent, 'connection');
        quiet.start({ method: 'GET', url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/x`, headers: {} });
        const [socket] = (await held) as [import('node:net').Socket];
        const gone = once(socket, 'close');
        quiet.discard();
        await gone;
      } finally {
        silent.closeAllConnections();
        await new Promise((r) => silent.close(r));
      }
      // Once discarded, an identical request is a request of its own.
      http.start({ method: 'GET', url, headers: {} });
      await eventually('the second request', async () => (seen.length === 2 ? true : undefined));
      http.discard();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
  test('sent() resolves once what was started is on the wire: it waits for no answer, and not for a refused connection', { timeout: 30_000 }, async () => {
    // Reads each request whole, never answers.
    const bodies: string[] = [];
    const silent = createServer((req) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('latin1')));
      req.on('end', () => bodies.push(body));
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/x`;
    try {
      const http = withHeadStart(createGitHttp({ timeoutMs: 60_000 }));
      http.start({ method: 'GET', url, headers: {} });
      http.start({ method: 'POST', url, headers: {}, body: Buffer.from('the listing') });
      // A cap longer than the test's timeout: resolving at all means it did not wait for answers.
      await http.sent(120_000);
      await eventually('both requests at the server', async () => (bodies.length === 2 ? true : undefined));
      assert.deepEqual(bodies.sort(), ['', 'the listing']);
      http.discard();
      // Nothing started since: resolves at once.
      await http.sent(120_000);
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
    const refused = withHeadStart(createGitHttp({ timeoutMs: 60_000 }));
    // The server is closed now: its port refuses the connection.
    refused.start({ method: 'GET', url, headers: {} });
    await refused.sent(120_000);
    refused.discard();
  });
});
