import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/config.ts';
import { ConfigInvalidError } from '../../src/errors/index.ts';

const TOKEN = 'tok-5c2e9a';
const REPO = '[repo]\nurl = "https://git.example.com/me/app.git"\n';
const BUILD = '[build]\ncommands = []\n';
const STATUS = '[status]\nprovider = "gitea"\napi_url = "https://git.example.com/api/v1"\nrepository = "me/app"\n';

/** Each way a token is given inline: the file's text for a TOML string literal, the key, its line, and where parseConfig puts the token. */
const INLINE = [
  { key: 'repo.token', text: (v: string) => `${REPO}token = ${v}\n${BUILD}`, line: 3, got: (c: Config) => (c.repo.auth.kind === 'token' ? c.repo.auth.token.reveal() : undefined) },
  { key: 'status.token', text: (v: string) => `${REPO}${BUILD}${STATUS}token = ${v}\n`, line: 9, got: (c: Config) => c.status?.token?.reveal() },
  {
    key: 'serve.status_token',
    text: (v: string) => `${REPO}${BUILD}[serve]\nstatus_token = ${v}\n`,
    line: 6,
    got: (c: Config) => (c.serve.statusToken?.kind === 'inline' ? c.serve.statusToken.secret.reveal() : undefined),
  },
];
type Config = ReturnType<typeof parseConfig>['config'];
const parse = (text: string) => parseConfig(text, { file: '/srv/app/mfd.toml', env: {} }).config;

// One rule for a token however it is given (inline, a file, the environment): surrounding
// whitespace trimmed, whitespace or a control character inside refused, never echoed.
describe('config/secret: the token rule', () => {
  test('an inline token is trimmed of surrounding whitespace, as a token file or variable is', () => {
    for (const { key, text, got } of INLINE) {
      assert.equal(got(parse(text(JSON.stringify(` ${TOKEN}\r\n`)))), TOKEN, key);
    }
  });

  test('an inline token with whitespace or a control character inside, or only whitespace, is a config error naming the key and its line, never the value', () => {
    const bad = [`Bearer ${TOKEN}`, `${TOKEN}\nsecond-5c2e`, `${TOKEN}\t-5c2e`, `tok\u200b-5c2e`, `tok\u001b-5c2e`, ' \n '];
    for (const { key, text, line } of INLINE) {
      for (const value of bad) {
        assert.throws(() => parse(text(JSON.stringify(value))), (error: unknown) => {
          assert.ok(error instanceof ConfigInvalidError, String(error));
          assert.equal(error.exitCode, 2);
          assert.equal(error.issues.length, 1, error.message);
          const issue = error.issues[0]!;
          assert.equal(issue.path, key);
          assert.equal(issue.line, line);
          assert.match(issue.message, value.trim() ? /holds whitespace or a control character inside the token.*give the token alone/ : /holds only whitespace/);
          assert.ok(!`${error.message} ${error.hint}`.includes('-5c2e'), 'never the value');
          return true;
        }, `${key} = ${JSON.stringify(value)}`);
      }
    }
  });

  test('MFD_REPO_TOKEN and MFD_STATUS_TOKEN obey the same rule', () => {
    const env = (vars: Record<string, string>) => parseConfig(`${REPO}${BUILD}${STATUS}`, { file: '/srv/app/mfd.toml', env: vars }).config;
    const c = env({ MFD_REPO_TOKEN: ` ${TOKEN}\n`, MFD_STATUS_TOKEN: `\t${TOKEN}\r\n` });
    assert.equal(c.repo.auth.kind === 'token' && c.repo.auth.token.reveal(), TOKEN);
    assert.equal(c.status?.token?.reveal(), TOKEN);
    for (const name of ['MFD_REPO_TOKEN', 'MFD_STATUS_TOKEN']) {
      assert.throws(() => env({ [name]: `Bearer ${TOKEN}` }), (error: unknown) => {
        assert.ok(error instanceof ConfigInvalidError);
        assert.equal(error.issues[0]!.path, name);
        assert.match(error.message, /whitespace or a control character inside/);
        assert.ok(!error.message.includes('-5c2e'));
        return true;
      });
    }
  });
});
