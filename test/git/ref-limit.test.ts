// A server whose ref advertisement or ref listing has no end: the client cuts it at MAX_REFS_BYTES
// with GIT_REFS_TOO_LARGE (exit 4), stores nothing, and the server sees its answer cut short. The
// stand-in is a real HTTP server on 127.0.0.1 that answers as a broken or hostile git server would.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { createGzip } from 'node:zlib';
import { GitFetchError, GitRefsTooLargeError } from '../../src/errors/index.ts';
import { fetchCommit, resolveRef } from '../../src/git/git.ts';
import { MAX_REFS_BYTES } from '../../src/git/ref-limit.ts';
import { tmpRoot } from '../helpers/repo.ts';

const SHA = 'a'.repeat(40);
const pkt = (payload: string) => Buffer.concat([Buffer.from((Buffer.byteLength(payload) + 4).toString(16).padStart(4, '0')), Buffer.from(payload)]);
/** 1 MiB or so of ref lines: what the stand-in repeats. */
const REF_LINES = Buffer.concat(Array.from({ length: 16_000 }, (_, i) => pkt(`${SHA} refs/tags/t${i}\n`)));

/** What a stand-in answer did: how much it wrote, and whether the client took it to its end. */
interface Sent {
  bytes: number;
  whole: boolean;
}

/**
 * Writes `start`, then REF_LINES again and again (with backpressure) up to twice MAX_REFS_BYTES,
 * then `end`, unless the client cuts the connection first.
 */
async function endless(res: ServerResponse, start: Buffer, end: Buffer, sent: Sent, options: { gzip?: boolean } = {}): Promise<void> {
  let closed = false;
  const close = once(res, 'close').then(() => (closed = true));
  const out = options.gzip ? createGzip() : res;
  if (out !== res) out.pipe(res);
  const write = async (chunk: Buffer) => {
    sent.bytes += chunk.length;
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), close]);
  };
  await write(start);
  while (!closed && sent.bytes < 2 * MAX_REFS_BYTES) await write(REF_LINES);
  if (closed) return void out.destroy();
  out.end(end);
  sent.whole = true;
}

/** The protocol v2 capabilities git http-backend advertises. */
const V2_CAPABILITIES = Buffer.concat([pkt('# service=git-upload-pack\n'), Buffer.from('0000'), pkt('version 2\n'), pkt('ls-refs=unborn\n'), pkt('fetch=shallow\n'), Buffer.from('0000')]);

async function standIn(t: TestContext, answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    answer(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/app.git`;
}

const tooLarge = (url: string, path: string) => (error: unknown) => {
  assert.ok(error instanceof GitRefsTooLargeError, String(error));
  assert.equal(error.code, 'GIT_REFS_TOO_LARGE');
  assert.equal(error.exitCode, 4);
  assert.equal(error.message, `the ref list from ${url}${path} is over 64 MiB, more than mfd reads`);
  assert.match(error.hint ?? '', /git ls-remote/);
  return true;
};

const noPack = async (gitdir: string) => {
  const dir = join(gitdir, 'objects', 'pack');
  assert.deepEqual(existsSync(dir) ? await readdir(dir) : [], [], 'no pack, index or temp file stored');
};

describe('git: a ref list without end is cut at MAX_REFS_BYTES', () => {
  test('a fetch\'s v1 advertisement whose first ref is not HEAD, and that never ends, is GIT_REFS_TOO_LARGE, its answer cut', { timeout: 120_000 }, async (t) => {
    const sent: Sent = { bytes: 0, whole: false };
    const url = await standIn(t, (req, res) => {
      if (req.method !== 'GET') return void res.writeHead(500).end();
      res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' });
      const start = Buffer.concat([pkt('# service=git-upload-pack\n'), Buffer.from('0000'), pkt(`${SHA} refs/heads/a\0shallow\n`)]);
      void endless(res, start, Buffer.from('0000'), sent);
    });
    const gitdir = join(await tmpRoot(t), 'repo.git');
    await assert.rejects(fetchCommit({ remote: { url, auth: { kind: 'none' } }, gitdir, sha: SHA }), tooLarge(url, '/info/refs'));
    assert.equal(sent.whole, false, `the server wrote ${sent.bytes} bytes, all of them read`);
    await noPack(gitdir);
  });

  test('a ref listing whose ls-refs answer never ends is GIT_REFS_TOO_LARGE, its answer cut', { timeout: 120_000 }, async (t) => {
    const sent: Sent = { bytes: 0, whole: false };
    const url = await standIn(t, (req, res) => {
      if (req.method === 'GET') return void res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' }).end(V2_CAPABILITIES);
      res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-result' });
      void endless(res, pkt(`${SHA} refs/heads/a\n`), Buffer.from('0000'), sent);
    });
    const gitdir = join(await tmpRoot(t), 'repo.git');
    await assert.rejects(resolveRef({ remote: { url, auth: { kind: 'none' } }, gitdir, ref: 'main' }), tooLarge(url, '/git-upload-pack'));
    assert.equal(sent.whole, false, `the server wrote ${sent.bytes} bytes, all of them read`);
  });

  test('a v1-only server whose advertisement, gzipped, inflates without end fails a ref listing with GIT_REFS_TOO_LARGE', { timeout: 120_000 }, async (t) => {
    const url = await standIn(t, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement', 'Content-Encoding': 'gzip' });
      const start = Buffer.concat([pkt('# service=git-upload-pack\n'), Buffer.from('0000'), pkt(`${SHA} refs/heads/a\0shallow\n`)]);
      void endless(res, start, Buffer.from('0000'), { bytes: 0, whole: false }, { gzip: true });
    });
    const gitdir = join(await tmpRoot(t), 'repo.git');
    // Decoded bytes count: the few MiB on the wire would pass any bound on what was sent.
    await assert.rejects(resolveRef({ remote: { url, auth: { kind: 'none' } }, gitdir, ref: 'main' }), tooLarge(url, '/info/refs'));
  });

  test('a ref listing cut short fails the resolve: a name is never resolved from the refs that came before the cut', async (t) => {
    const url = await standIn(t, (req, res) => {
      if (req.method === 'GET') return void res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' }).end(V2_CAPABILITIES);
      // The branch comes; the tag of the same name, which git's rules would pick, never does.
      res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-result' });
      res.write(pkt(`${SHA} refs/heads/main\n`), () => res.socket?.destroy());
    });
    const gitdir = join(await tmpRoot(t), 'repo.git');
    await assert.rejects(resolveRef({ remote: { url, auth: { kind: 'none' } }, gitdir, ref: 'main' }), (error: unknown) => {
      assert.ok(error instanceof GitFetchError, String(error));
      assert.equal(error.exitCode, 4);
      return true;
    });
  });
});
