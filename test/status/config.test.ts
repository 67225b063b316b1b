import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/config.ts';
import { ConfigInvalidError } from '../../src/errors/index.ts';

const base = (url: string, extra: string) => `[repo]\nurl = "${url}"\n[build]\ncommands = []\n${extra}`;
const parse = (text: string, env: Record<string, string> = {}) => parseConfig(text, { file: '/srv/shop/mfd.toml', env }).config;
const problems = (text: string): string => {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof ConfigInvalidError);
    return error.message;
  }
  assert.fail('expected a config error');
};

describe('[status] config', () => {
  test('github.com: api_url, repository and context come from repo.url and the app root; the token from MFD_STATUS_TOKEN', () => {
    const c = parse(base('https://github.com/me/shop.git', '[status]\nprovider = "github"\n'), { MFD_STATUS_TOKEN: 'ghp_x' }).status!;
    assert.equal(c.apiUrl, 'https://api.github.com');
    assert.deepEqual(c.repository, { kind: 'owner', owner: 'me', name: 'shop' });
    assert.equal(c.context, 'mfd/shop');
    assert.equal(c.token!.reveal(), 'ghp_x');
    assert.equal(c.timeoutMs, 10_000);
    assert.equal(JSON.stringify(c).includes('ghp_x'), false);
  });

  test('gitlab.com: a project path of nested groups; self-hosted under a sub-path drops the path the forge is served under', () => {
    assert.deepEqual(parse(base('https://gitlab.com/grp/sub/shop.git', '[status]\nprovider = "gitlab"\n')).status!.repository, { kind: 'project', id: 'grp/sub/shop' });
    const gitea = parse(base('https://h.example/git/me/shop.git', '[status]\nprovider = "gitea"\napi_url = "https://h.example/git/api/v1/"\n')).status!;
    assert.equal(gitea.apiUrl, 'https://h.example/git/api/v1');
    assert.deepEqual(gitea.repository, { kind: 'owner', owner: 'me', name: 'shop' });
    assert.deepEqual(parse(base('https://gitlab.com/a/b.git', '[status]\nprovider = "gitlab"\nrepository = "1234"\n')).status!.repository, { kind: 'project', id: '1234' });
  });

  test('a repo.url whose path holds a malformed %-escape is a config error asking for status.repository, not a URIError', () => {
    assert.match(problems(base('https://github.com/me/shop%zz.git', '[status]\nprovider = "github"\n')), /status\.repository: cannot be derived from repo\.url: give "owner\/name"/);
    // Given outright, nothing is derived and the file loads.
    assert.deepEqual(parse(base('https://github.com/me/shop%zz.git', '[status]\nprovider = "github"\nrepository = "me/shop"\n')).status!.repository, { kind: 'owner', owner: 'me', name: 'shop' });
  });

  test('a self-hosted forge needs api_url, and the error says what to give', () => {
    assert.match(problems(base('https://git.example.com/me/shop.git', '[status]\nprovider = "gitea"\n')), /status\.api_url: is required for gitea on git\.example\.com \(the API base URL, e\.g\. "https:\/\/git\.example\.com\/api\/v1"\)/);
  });

  test('an unknown provider, a bad repository, a timeout out of range and a token given twice are all reported, the token never echoed', () => {
    assert.match(problems(base('https://github.com/me/shop.git', '[status]\nprovider = "bitbucket"\n')), /status\.provider/);
    const message = problems(base('https://github.com/me/shop.git', '[status]\nprovider = "github"\nrepository = "just-a-name"\ntimeout = "5m"\ntoken = "ghp_secret"\ntoken_file = "t"\n'));
    assert.match(message, /status\.repository: expected "owner\/name", got "just-a-name"/);
    assert.match(message, /status\.timeout: expected a duration from 1s to 1m, got "5m"/);
    assert.match(message, /status\.token_file: give either status\.token or status\.token_file, not both/);
    assert.doesNotMatch(message, /ghp_secret/);
    assert.match(problems(base('https://github.com/me/shop.git', '[status]\nprovider = "github"\ntoken = 5\n')), /status\.token: .*got \*\*\*|status\.token: expected/);
  });
});

describe('[notify] config', () => {
  test('by default automatic runs\' failures and successes; "manual" adds manual runs; the timeout is range-checked', () => {
    const d = parse(base('https://github.com/me/shop.git', '[notify]\ncommand = ["./notify"]\n')).notify!;
    assert.deepEqual([[...d.outcomes].sort(), d.manual, d.timeoutMs], [['failure', 'success'], false, 30_000]);
    const m = parse(base('https://github.com/me/shop.git', '[notify]\ncommand = ["./notify"]\non = ["failure", "manual"]\ntimeout = "5s"\n')).notify!;
    assert.deepEqual([[...m.outcomes], m.manual, m.timeoutMs], [['failure'], true, 5_000]);
    assert.match(problems(base('https://github.com/me/shop.git', '[notify]\ncommand = ["./notify"]\ntimeout = "1h"\n')), /notify\.timeout: expected a duration from 1s to 10m, got "1h"/);
    assert.match(problems(base('https://github.com/me/shop.git', '[notify]\ncommand = ["./notify"]\non = ["always"]\n')), /notify\.on\.0: expected one of "failure", "success", "manual", got "always"/);
    assert.match(problems(base('https://github.com/me/shop.git', '[notify]\ncommand = [""]\n')), /notify\.command\.0: expected a program name/);
  });
});
