// A git server's own errors (an ERR line, side-band 3): the user reads what the server said,
// quoted, under its own code, and nothing is stored. The unreachable commit is refused by a real
// git http-backend; the other refusals come from a stand-in that answers as a server would.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { GitRefusedError, RefNotFoundError } from '../../src/errors/index.ts';
import { fetchCommit, resolveRef } from '../../src/git/git.ts';
import { gitFixture as fixture } from '../helpers/git-fixture.ts';
import { runGit, tmpRoot } from '../helpers/repo.ts';

const pkt = (payload: string | Buffer) => {
  const b = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  return Buffer.concat([Buffer.from((b.length + 4).toString(16).padStart(4, '0')), b]);
};

/** A server whose info/refs answer is `advertise()` and whose upload-pack answer is `answer`. */
async function standIn(t: TestContext, advertise: () => Buffer, answer: Buffer): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    const get = req.method === 'GET';
    res.writeHead(200, { 'Content-Type': `application/x-git-upload-pack-${get ? 'advertisement' : 'result'}` });
    res.end(get ? advertise() : answer);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise((r) => server.close(r)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/app.git`;
}

const noPack = async (gitdir: string) => {
  const dir = join(gitdir, 'objects', 'pack');
  assert.deepEqual(existsSync(dir) ? await readdir(dir) : [], [], 'no pack, index or temp file stored');
};

describe('a git server\'s own error', () => {
  test('a commit on no branch or tag is refused by upload-pack: REF_NOT_FOUND quoting the server, with a hint', async (t) => {
    const f = await fixture(t);
    const tree = (await runGit(['rev-parse', `${f.c[1]}^{tree}`], { cwd: f.repo.bare })).trim();
    const dangling = (await runGit(['commit-tree', tree, '-m', 'on no branch'], { cwd: f.repo.bare })).trim();
    const gitdir = join(await tmpRoot(t), 'repo.git');
    await assert.rejects(fetchCommit({ remote: f.remote, gitdir, sha: dangling }), (error: unknown) => {
      assert.ok(error instanceof RefNotFoundError, String(error));
      assert.equal(error.exitCode, 4);
      assert.equal(error.message, `ref "${dangling}" not found in ${f.remote.url}: the server refused it ("upload-pack: not our ref ${dangling}")`);
      assert.match(error.hint ?? '', /on no branch or tag of the server/);
      return true;
    });
    await noPack(gitdir);
  });

  test('a message on side-band 3 is GIT_REFUSED, exit 4: quoted, one line, bounded, its controls escaped', async (t) => {
    const f = await fixture(t);
    const advertisement = Buffer.from(await (await fetch(`${f.remote.url}/info/refs?service=git-upload-pack`)).arrayBuffer());
    const said = `fatal: quota exceeded \u001b]0;owned\u0007\n${'x'.repeat(1000)}\n`;
    const url = await standIn(t, () => advertisement, Buffer.concat([pkt('NAK\n'), pkt(Buffer.concat([Buffer.from([3]), Buffer.from(said)]))]));
    const gitdir = join(await tmpRoot(t), 'repo.git');
    await assert.rejects(fetchCommit({ remote: { url, auth: { kind: 'none' } }, gitdir, sha: f.c[1] }), (error: unknown) => {
      assert.ok(error instanceof GitRefusedError, String(error));
      assert.equal(error.code, 'GIT_REFUSED');
      assert.equal(error.exitCode, 4);
      assert.ok(error.message.startsWith(`the git server at ${url} refused: "fatal: quota exceeded \\x1b]0;owned\\x07 xxx`), error.message);
      assert.ok(!/[\n\u001b\u0007]/.test(error.message), 'one line, no raw control character');
      assert.equal(error.said.length, 300);
      return true;
    });
    await noPack(gitdir);
  });

  test('an ERR line in place of the ref advertisement is GIT_REFUSED naming what the server said', async (t) => {
    const url = await standIn(t, () => Buffer.concat([pkt('# service=git-upload-pack\n'), Buffer.from('0000'), pkt('ERR access denied or repository not exported\n')]), Buffer.from('0000'));
    const gitdir = join(await tmpRoot(t), 'repo.git');
    const refused = (error: unknown) => {
      assert.ok(error instanceof GitRefusedError, String(error));
      assert.equal(error.message, `the git server at ${url} refused: "access denied or repository not exported"`);
      return true;
    };
    await assert.rejects(resolveRef({ remote: { url, auth: { kind: 'none' } }, gitdir }), refused);
    await assert.rejects(fetchCommit({ remote: { url, auth: { kind: 'none' } }, gitdir, sha: 'a'.repeat(40) }), refused);
  });
});
