import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../../src/config/config.ts';
import { readWebhookSecret } from '../../src/config/serve.ts';
import { ConfigInvalidError, WebhookSecretUnreadableError } from '../../src/errors/index.ts';
import { pageAccessOf } from '../../src/serve/page-access.ts';
import { isLoopback } from '../../src/serve/watch.ts';
import { tmpRoot } from '../helpers/repo.ts';

const BASE = '[repo]\nurl = "https://git.example.com/me/app.git"\n[build]\ncommands = []\n';
const parse = (serve: string, env: Record<string, string> = {}) => parseConfig(`${BASE}[serve]\n${serve}`, { file: '/srv/app/mfd.toml', env }).config.serve;
function problems(serve: string): Map<string, string> {
  try {
    parse(serve);
  } catch (error) {
    assert.ok(error instanceof ConfigInvalidError);
    return new Map(error.issues.map((i) => [i.path, i.message]));
  }
  assert.fail('expected a config error');
}

describe('config/serve', () => {
  test('defaults: loopback port 8090, a poll every 10m, 1 MiB bodies, no secret', () => {
    const serve = parseConfig(BASE, { file: '/srv/app/mfd.toml', env: {} }).config.serve;
    assert.deepEqual(serve, { listen: { host: '127.0.0.1', port: 8090 }, pollMs: 600_000, maxBodyBytes: 1024 ** 2, secret: { kind: 'none' } });
  });

  test('listen takes host:port and [v6]:port; poll and max_body are range-checked', () => {
    assert.deepEqual(parse('listen = "0.0.0.0:9000"').listen, { host: '0.0.0.0', port: 9000 });
    assert.deepEqual(parse('listen = "[::1]:9000"').listen, { host: '::1', port: 9000 });
    assert.equal(parse('poll = "1m"\nmax_body = "25MiB"').pollMs, 60_000);
    const bad = problems('listen = "8090"\npoll = "0s"\nmax_body = "1B"');
    assert.match(bad.get('serve.listen')!, /expected "host:port".*got "8090"/);
    assert.match(bad.get('serve.poll')!, /expected a duration from 1s to 24h, got "0s"/);
    assert.match(bad.get('serve.max_body')!, /expected a size from 1\.0KiB to 100\.0MiB, got "1B"/);
    assert.match(problems('listen = "host:70000"').get('serve.listen')!, /host:port/);
  });

  test('repository is a full name ("owner/name", GitLab "group/sub/name") or a URL: a bare name is an error', () => {
    assert.equal(parse('repository = "owner/app"').repository, 'owner/app');
    assert.equal(parse('repository = "group/sub/app"').repository, 'group/sub/app');
    assert.equal(parse('repository = "https://github.com/owner/app.git"').repository, 'https://github.com/owner/app.git');
    assert.equal(parse('repository = "git@github.com:owner/app.git"').repository, 'git@github.com:owner/app.git');
    for (const bare of ['app', '/app/', 'owner//app', 'app.git']) {
      assert.match(problems(`repository = "${bare}"`).get('serve.repository')!, /expected "owner\/name".*or a URL, got ".*": a push to any repository of that name/, bare);
    }
  });

  test('the secret comes from the file, else secret_file, else MFD_WEBHOOK_SECRET; secret and secret_file together are an error', () => {
    assert.equal(parse('secret = "s3cret"').secret.kind, 'inline');
    assert.deepEqual(parse('secret_file = "hook.secret"', { MFD_WEBHOOK_SECRET: 'x' }).secret, { kind: 'file', path: 'hook.secret', line: 6 });
    assert.equal(parse('', { MFD_WEBHOOK_SECRET: 'from-env' }).secret.kind, 'env');
    assert.match(problems('secret = "a"\nsecret_file = "b"').get('serve.secret_file')!, /either serve\.secret or serve\.secret_file/);
  });

  test('a webhook secret of only whitespace, in serve.secret or MFD_WEBHOOK_SECRET, is a config error naming the key or variable, never the value', () => {
    const blank = ' \t\r\n ';
    const refused = (serve: string, env: Record<string, string>, path: string, why: RegExp) =>
      assert.throws(() => parse(serve, env), (error: unknown) => {
        assert.ok(error instanceof ConfigInvalidError, String(error));
        assert.equal(error.exitCode, 2);
        assert.deepEqual(error.issues.map((i) => i.path), [path], error.message);
        assert.match(error.issues[0]!.message, why);
        assert.ok(!/\t|\r/.test(error.message), 'never the value');
        return true;
      }, `${serve} ${JSON.stringify(env)}`);
    refused(`secret = ${JSON.stringify(blank)}`, {}, 'serve.secret', /holds only whitespace: give the secret, or leave the key out/);
    refused('', { MFD_WEBHOOK_SECRET: blank }, 'MFD_WEBHOOK_SECRET', /is set in the environment but holds only whitespace/);
    // Not the secret mfd would use: the one in mfd.toml comes first, as a token's does.
    assert.equal(parse('secret = "k"', { MFD_WEBHOOK_SECRET: blank }).secret.kind, 'inline');
    assert.equal(parse('secret_file = "hook.secret"', { MFD_WEBHOOK_SECRET: blank }).secret.kind, 'file');
    // Empty counts as unset (systemd's `Environment=MFD_WEBHOOK_SECRET=`): mfd serve then says none is set.
    assert.deepEqual(parse('', { MFD_WEBHOOK_SECRET: '' }).secret, { kind: 'none' });
    // An HMAC key, not a token: whitespace inside is the key's own.
    const inner = parse('', { MFD_WEBHOOK_SECRET: 'two words\n' }).secret;
    assert.equal(inner.kind === 'env' && inner.secret.reveal(), 'two words');
  });

  test('a bad secret value is described by its type, never echoed', () => {
    const text = `${BASE}[serve]\nsecret = ["hunter2-webhook"]\n`;
    try {
      parseConfig(text, { file: '/srv/app/mfd.toml', env: {} });
      assert.fail('expected a config error');
    } catch (error) {
      assert.ok(error instanceof ConfigInvalidError);
      assert.doesNotMatch(error.message, /hunter2/);
      assert.match(error.message, /serve\.secret: expected a string, got an array/);
    }
  });

  test('secret_file: relative to mfd.toml, ${CREDENTIALS_DIRECTORY} expanded, and each way it can fail a config error naming the key', async (t) => {
    const root = await tmpRoot(t);
    const file = join(root, 'mfd.toml');
    await writeFile(file, `${BASE}[serve]\nsecret_file = "hook.secret"\n`, { mode: 0o600 });
    const config = await loadConfig(file, {});
    await assert.rejects(readWebhookSecret(config.serve, { file, env: {} }), (e: WebhookSecretUnreadableError) =>
      e.exitCode === 2 && /serve\.secret_file: cannot read .*hook\.secret: ENOENT/.test(e.message) && /the user mfd serve runs as can read it/.test(e.hint!));
    await writeFile(join(root, 'hook.secret'), '\n');
    await assert.rejects(readWebhookSecret(config.serve, { file, env: {} }), /is empty/);
    await writeFile(join(root, 'hook.secret'), 'relative-secret\n', { mode: 0o644 });
    const warnings: string[] = [];
    assert.equal((await readWebhookSecret(config.serve, { file, env: {}, warn: (w) => warnings.push(w) }))!.reveal(), 'relative-secret');
    assert.match(warnings.join('\n'), /hook\.secret is readable by other users \(mode 0644\).*chmod 600/);
    assert.ok(!warnings.join('\n').includes('relative-secret'));

    const creds = join(root, 'credentials');
    await mkdir(creds);
    await writeFile(join(creds, 'webhook-secret'), 'credential-secret');
    const viaSystemd = { ...config.serve, secret: { kind: 'file' as const, path: '${CREDENTIALS_DIRECTORY}/webhook-secret' } };
    assert.equal((await readWebhookSecret(viaSystemd, { file, env: { CREDENTIALS_DIRECTORY: creds } }))!.reveal(), 'credential-secret');
    await assert.rejects(readWebhookSecret(viaSystemd, { file, env: {} }), /\$\{CREDENTIALS_DIRECTORY\} is not set: systemd sets it for a unit with LoadCredential=/);
    // Set, but the unit loaded no such credential: the hint names the unit's line that is missing.
    await assert.rejects(readWebhookSecret(viaSystemd, { file, env: { CREDENTIALS_DIRECTORY: root } }), (e: WebhookSecretUnreadableError) => /LoadCredential=webhook-secret:/.test(e.hint!));
    const other = { ...config.serve, secret: { kind: 'file' as const, path: '${HOME}/secret' } };
    await assert.rejects(readWebhookSecret(other, { file, env: { HOME: root } }), /only \$\{CREDENTIALS_DIRECTORY\} is/);
    assert.equal(await readWebhookSecret({ ...config.serve, secret: { kind: 'none' } }, { file, env: {} }), undefined);
  });

  test('an unreadable secret_file or status_token_file names its line in mfd.toml, as repo.token_file does', async (t) => {
    const root = await tmpRoot(t);
    const file = join(root, 'mfd.toml');
    // BASE is 4 lines: [serve] on 5, secret_file on 7, status_token_file on 8; repo.token_file on 3.
    await writeFile(file, `${BASE}[serve]\nlisten = "127.0.0.1:0"\nsecret_file = "hook.secret"\nstatus_token_file = "page.token"\n`, { mode: 0o600 });
    const config = await loadConfig(file, {});
    await assert.rejects(readWebhookSecret(config.serve, { file, env: {} }), (e: WebhookSecretUnreadableError) =>
      e.message === `${file}: line 7: serve.secret_file: cannot read ${join(root, 'hook.secret')}: ENOENT`);
    await assert.rejects(pageAccessOf(config.serve, { file, env: {}, warn: () => {} }), (e: ConfigInvalidError) =>
      e.issues[0]!.line === 8 && e.message === `${file}: line 8: serve.status_token_file: cannot read ${join(root, 'page.token')}: ENOENT`);
    await writeFile(file, `[repo]\nurl = "https://git.example.com/me/app.git"\ntoken_file = "repo.token"\n[build]\ncommands = []\n`, { mode: 0o600 });
    await assert.rejects(loadConfig(file, {}), { message: `${file}: line 3: repo.token_file: cannot read ${join(root, 'repo.token')}: ENOENT` });
  });

  test('a secret in mfd.toml makes a loose mode a warning, as a token does', async (t) => {
    const root = await tmpRoot(t);
    const file = join(root, 'mfd.toml');
    await writeFile(file, `${BASE}[serve]\nsecret = "in-the-file"\n`, { mode: 0o644 });
    const config = await loadConfig(file, {});
    assert.ok(config.warnings.some((w) => /readable by other users.*chmod 600/.test(w)));
    assert.ok(!config.warnings.join('\n').includes('in-the-file'));
  });

  test('loopback addresses are told from the others', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.equal(isLoopback(host), true, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com']) assert.equal(isLoopback(host), false, host);
  });
});
