import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { redact } from '../../src/errors/redact.ts';

describe('redact', () => {
  test('userinfo is masked in every URL form, however malformed or encoded', () => {
    const cases: [string, string][] = [
      ['https://user:pass@host/x', 'https://***@host/x'],
      ['https://ghp_token@github.com/me/app', 'https://***@github.com/me/app'],
      ['http:/user:pass@host/x', 'http:/***@host/x'],
      ['http:user:pass@host/x', '***@host/x'],
      ['HTTPS:///user:pa%40ss@host', 'HTTPS:///***@host'],
      ['user:pass@host/x', '***@host/x'],
      ['git@github.com:me/app.git', '***@github.com:me/app.git'],
      ['https%3A%2F%2Fuser%3Apass%40host%2Fx', 'https%3A%2F%2F***%40host%2Fx'],
      ['cannot reach https://u:p@h/x: connection refused (ECONNREFUSED)', 'cannot reach https://***@h/x: connection refused (ECONNREFUSED)'],
      ['got "user:pass@host/x"', 'got "***@host/x"'],
    ];
    for (const [input, want] of cases) assert.equal(redact(input), want, input);
  });

  test('a credential marked only by %40 or only by = is still masked (the quick pass lets neither through)', () => {
    assert.equal(redact('https://user%3Apass%40host/x'), 'https://***%40host/x');
    assert.equal(redact('see ?token=abc'), 'see ?token=***');
  });

  test('secret query parameters are masked, others kept', () => {
    assert.equal(redact('https://host/x.git?access_token=abc&ref=main'), 'https://host/x.git?access_token=***&ref=main');
    assert.equal(redact('https://gitlab.example/x?private_token=abc'), 'https://gitlab.example/x?private_token=***');
    assert.equal(redact('https://s3/x?X-Amz-Signature=abc#frag'), 'https://s3/x?X-Amz-Signature=***#frag');
    assert.equal(redact('https://host/x?service=git-upload-pack'), 'https://host/x?service=git-upload-pack');
  });

  test('text without credentials is unchanged, and redacting twice changes nothing', () => {
    for (const text of [
      'deploy lock held by alice@web1 (pid 4242, "mfd deploy v1.4.0") since 12:03:04Z (2m ago)',
      'https://git.example.com/app.git',
      'build command ["npm","ci"] failed with exit status 1',
      'error: see 12:03:04 and ratio 1:2',
    ]) {
      assert.equal(redact(text), text);
    }
    const once = redact('http:/u:p@h https://t@h2 a:b@c ?token=x');
    assert.equal(redact(once), once);
    assert.doesNotMatch(once, /\bp@|t@|b@|=x/);
  });
});
