import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseUrl, sameRepository } from '../../src/serve/repository.ts';

describe('serve/repository', () => {
  test('clone, web and SSH URLs of one repository normalise alike', () => {
    for (const url of ['https://github.com/Owner/App.git', 'https://github.com/owner/app', 'http://user:pw@github.com/owner/app/', 'git@github.com:owner/app.git', 'ssh://git@github.com/owner/app.git']) {
      assert.equal(normaliseUrl(url), url.startsWith('ssh:') ? 'github.com/owner/app' : 'github.com/owner/app', url);
    }
  });

  test('a payload matches by URL or by full name, and another repository does not', () => {
    const expected = 'https://git.example.com/forge/owner/app.git';
    assert.equal(sameRepository(expected, { urls: ['https://git.example.com/forge/owner/app'], names: [] }), true);
    assert.equal(sameRepository(expected, { urls: [], names: ['owner/app'] }), true);
    assert.equal(sameRepository(expected, { urls: ['https://git.example.com/forge/owner/other.git'], names: ['owner/other'] }), false);
    assert.equal(sameRepository(expected, { urls: ['https://evil.example/forge/owner/app.git'], names: ['someone/app'] }), false);
    assert.equal(sameRepository('Codertocat/Hello-World', { urls: [], names: ['codertocat/hello-world'] }), true);
    assert.equal(sameRepository('Codertocat/Hello-World', { urls: [], names: ['codertocat/hello'] }), false);
  });
});
