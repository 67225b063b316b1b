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
    assert.equal(sameRepository(expected, { urls: ['https://other.example/forge/owner/app.git'], names: ['owner/app'] }), false, 'a URL is matched by URL: the same name on another host is another repository');
    assert.equal(sameRepository(expected, { urls: ['not a url'], names: ['owner/app'] }), false, 'a URL that does not parse is still a claim, and not this one');
    assert.equal(sameRepository('Codertocat/Hello-World', { urls: [], names: ['codertocat/hello-world'] }), true);
    assert.equal(sameRepository('Codertocat/Hello-World', { urls: [], names: ['codertocat/hello'] }), false);
  });
});

describe('serve/repository: names are matched on whole path segments', () => {
  test('a full name matches the payload\'s full name exactly: a subgroup or an owner ending in it is another repository', () => {
    // GitLab: evil/group/app is a project "app" in evil's subgroup "group", not group/app.
    assert.equal(sameRepository('group/app', { urls: ['https://gitlab.com/evil/group/app.git'], names: ['evil/group/app'] }), false);
    assert.equal(sameRepository('owner/app', { urls: ['https://github.com/evil-owner/app.git'], names: ['evil-owner/app'] }), false);
    assert.equal(sameRepository('owner/app', { urls: ['https://github.com/owner/myapp.git'], names: ['owner/myapp'] }), false);
    assert.equal(sameRepository('Group/Sub/App', { urls: [], names: ['group/sub/app'] }), true, 'GitHub and GitLab names are case-insensitive');
  });

  test('without a full name in the payload its URLs are compared, on whole segments', () => {
    assert.equal(sameRepository('owner/app', { urls: ['https://git.example.com/forge/owner/app.git'], names: [] }), true);
    assert.equal(sameRepository('owner/app', { urls: ['https://git.example.com/forge/xowner/app.git'], names: [] }), false);
  });

  test('a payload name without an owner names no repository, even at the end of the expected URL', () => {
    assert.equal(sameRepository('https://git.example.com/forge/owner/app.git', { urls: [], names: ['app'] }), false);
    assert.equal(sameRepository('https://git.example.com/forge/owner/app.git', { urls: [], names: ['owner/app'] }), true);
  });
});
