// The webhook secret however it is given (serve.secret, serve.secret_file, MFD_WEBHOOK_SECRET), read
// as `mfd serve` reads it and checked over real HTTP: the forge signs with the secret as typed into
// its form, without the newline `$(cat file)` or an EnvironmentFile= line brings along.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { readWebhookSecret } from '../../src/config/serve.ts';
import { startWebhookServer } from '../../src/serve/server.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { deliver, github, githubExample, gitlab, gitlabPush } from './deliveries.ts';
import { PokeRecord } from './poke-record.ts';

/** An HMAC key may hold a space inside: only the surrounding whitespace is not the key's. */
const KEY = 'hook key 7d41';
const GIVEN = ` ${KEY}\r\n`;
const BASE = '[repo]\nurl = "https://github.com/Codertocat/Hello-World.git"\n[build]\ncommands = []\n[serve]\nlisten = "127.0.0.1:0"\n';

const SOURCES = [
  { how: 'serve.secret', serve: `secret = ${JSON.stringify(GIVEN)}\n`, env: {} },
  { how: 'serve.secret_file', serve: 'secret_file = "hook.secret"\n', env: {} },
  { how: 'MFD_WEBHOOK_SECRET', serve: '', env: { MFD_WEBHOOK_SECRET: GIVEN } },
];

describe('serve: the webhook secret, however it is given', () => {
  for (const { how, serve, env } of SOURCES) {
    test(`from ${how}: surrounding whitespace is trimmed, a space inside kept, and deliveries signed with the secret are accepted`, async (t) => {
      const root = await tmpRoot(t);
      const file = join(root, 'mfd.toml');
      await writeFile(file, `${BASE}${serve}`, { mode: 0o600 });
      await writeFile(join(root, 'hook.secret'), GIVEN, { mode: 0o600 });
      const config = await loadConfig(file, env);
      const secret = await readWebhookSecret(config.serve, { file, env });
      assert.ok(secret);
      const server = await startWebhookServer({
        listen: config.serve.listen,
        secret,
        maxBodyBytes: config.serve.maxBodyBytes,
        watch: { ref: 'refs/heads/master', repository: 'Codertocat/Hello-World' },
        loop: new PokeRecord(),
        log: { info: () => {}, warn: () => {} },
      });
      t.after(() => server.close());
      const push = githubExample('push', (p) => p.ref === 'refs/heads/master');
      const signed = await deliver(server.url, github('push', push, KEY));
      assert.equal(signed.status, 202, JSON.stringify(signed.json));
      assert.equal(signed.json.action, 'deploy');
      const token = await deliver(server.url, gitlab('Push Hook', gitlabPush({ ref: 'refs/heads/master', httpUrl: 'https://github.com/Codertocat/Hello-World.git', path: 'Codertocat/Hello-World' }), KEY));
      assert.equal(token.status, 202, JSON.stringify(token.json));
      // The space inside is the key's own: a key without it is another key.
      assert.equal((await deliver(server.url, github('push', push, KEY.replace(/ /g, '')))).status, 401);
    });
  }
});
