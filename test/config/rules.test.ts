import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedKeys, parseConfig } from '../../src/config/config.ts';
import { DURATIONS } from '../../src/config/rules.ts';
import { ConfigInvalidError, EXIT } from '../../src/errors/index.ts';

const parse = (text: string) => parseConfig(text, { file: '/srv/app/mfd.toml', env: {} }).config;
const BASE = '[repo]\nurl = "https://git.example.com/app.git"\n[build]\ncommands = []\n';

/** The one issue `text` has, as path → message. */
function issue(text: string): { path: string; message: string; error: ConfigInvalidError } {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof ConfigInvalidError, String(error));
    assert.equal(error.issues.length, 1, error.message);
    return { ...error.issues[0]!, error };
  }
  assert.fail(`expected a config error for:\n${text}`);
}

describe('config rules', () => {
  test('[repo] timeout is 2m by default and takes a duration', () => {
    assert.equal(parse(BASE).repo.timeoutMs, 120_000);
    assert.equal(parse(BASE.replace('[build]', 'timeout = "30s"\n[build]')).repo.timeoutMs, 30_000);
  });

  test('[watch] interval is 1m by default and takes a duration; [watch] allows no other key', () => {
    assert.equal(parse(BASE).watch.intervalMs, 60_000);
    assert.equal(parse(`${BASE}[watch]\ninterval = "5s"\n`).watch.intervalMs, 5_000);
    assert.equal(issue(`${BASE}[watch]\nintervall = "5s"\n`).path, 'watch.intervall');
  });

  test('every duration beyond its range is a config error naming the key and the range', () => {
    const cases: [string, string, string, string][] = [
      // [table, key = value, path, range]
      ['build', 'timeout = "720h"', 'build.timeout', 'from 1s to 576h'],
      ['build', 'timeout = "0s"', 'build.timeout', 'from 1s to 576h'],
      ['lock', 'stale = "3000h"', 'lock.stale', 'from 1s to 24h'],
      ['lock', 'stale = "0s"', 'lock.stale', 'from 1s to 24h'],
      ['lock', 'retry_interval = "2h"', 'lock.retry_interval', 'from 10ms to 1h'],
      ['health', 'command = ["true"]\ntimeout = "50ms"', 'health.timeout', 'from 100ms to 1h'],
      ['health', 'command = ["true"]\ninterval = "1000h"', 'health.interval', 'from 10ms to 1h'],
      ['health', 'command = ["true"]\ndelay = "2h"', 'health.delay', 'from 0s to 1h'],
      ['watch', 'interval = "500ms"', 'watch.interval', 'from 1s to 24h'],
      ['watch', 'interval = "25h"', 'watch.interval', 'from 1s to 24h'],
    ];
    for (const [table, line, path, range] of cases) {
      const text = table === 'build' ? BASE.replace('commands = []', `commands = []\n${line}`) : `${BASE}[${table}]\n${line}\n`;
      const got = issue(text);
      assert.equal(got.path, path, text);
      const value = /= (".*")$/m.exec(line.split('\n').at(-1)!)![1];
      assert.equal(got.message, `expected a duration from ${range.slice(5)}, got ${value}`);
      assert.equal(got.error.exitCode, EXIT.config);
    }
    const repo = issue(BASE.replace('[build]', 'timeout = "0s"\n[build]'));
    assert.deepEqual([repo.path, repo.message], ['repo.timeout', 'expected a duration from 1s to 1h, got "0s"']);
  });

  test('the ends of each range are allowed, and every one fits in a Node timer', () => {
    const c = parse(BASE.replace('commands = []', 'commands = []\ntimeout = "576h"') + '[lock]\nstale = "1s"\nretry_interval = "10ms"\n');
    assert.equal(c.build.timeoutMs, 576 * 3_600_000);
    assert.ok(c.build.timeoutMs! <= 2 ** 31 - 1);
    assert.equal(c.lock.staleMs, 1000);
  });

  test('an empty program name in a build command or the health command is a config error', () => {
    const build = issue(BASE.replace('commands = []', 'commands = [["true"], ["", "x"]]'));
    assert.deepEqual([build.path, build.message], ['build.commands.1.0', 'expected a program name (argv[0]), got ""']);
    const health = issue(`${BASE}[health]\ncommand = [""]\n`);
    assert.deepEqual([health.path, health.message], ['health.command.0', 'expected a program name (argv[0]), got ""']);
  });

  test('a NUL ("\\u0000") in any value is a config error at its path, never echoed: no argv, path or header can hold one', () => {
    const cases: [string, string][] = [
      ['[build]\ncommands = [["sh", "-c", "echo a\\u0000b"]]', 'build.commands.0.2'],
      ['[build]\ncommands = [["s\\u0000h"]]', 'build.commands.0.0'],
      ['[build]\ncommands = []\n[health]\ncommand = ["tr\\u0000ue"]', 'health.command.0'],
      ['[build]\ncommands = []\n[notify]\ncommand = ["notify", "x\\u0000"]', 'notify.command.1'],
      ['[build]\ncommands = []\n[lock]\ndir = "/run/lock/a\\u0000b"', 'lock.dir'],
      ['[build]\ncommands = []\n[serve]\nsecret = "hook-s3cret\\u0000"', 'serve.secret'],
    ];
    for (const [lines, path] of cases) {
      const got = issue(`[repo]\nurl = "https://git.example.com/app.git"\n${lines}\n`);
      assert.deepEqual([got.path, got.message], [path, 'holds a NUL character ("\\u0000"), which no argument, path, header or environment value can carry'], lines);
      assert.ok(got.error.issues[0]!.line !== undefined, lines);
      assert.doesNotMatch(got.error.message, /s3cret/);
    }
  });

  test('a program name with spaces around it is a config error naming what was meant; arguments may hold spaces', () => {
    const build = issue(BASE.replace('commands = []', 'commands = [["true"], [" npm", "ci", " x "]]'));
    assert.deepEqual([build.path, build.message], ['build.commands.1.0', 'a program name with spaces around it, got " npm": each element is one argument, with no shell to trim it ("npm" is what you mean)']);
    const health = issue(`${BASE}[health]\ncommand = ["./check\t"]\n`);
    assert.equal(health.path, 'health.command.0');
  });

  test('repo.url must be http(s) with a host: scp form, ssh, git, file and bare paths are refused at load', () => {
    const cases: [string, RegExp][] = [
      ['git@github.com:me/app.git', /^an SSH address \(scp form\): mfd fetches over HTTP\(S\) only; use https:\/\/host\/owner\/repo\.git, got "\*\*\*@github\.com:me\/app\.git"$/],
      ['ssh://git@github.com/me/app.git', /^a ssh: URL: mfd fetches over HTTP\(S\) only/],
      ['git://github.com/me/app.git', /^a git: URL: /],
      ['file:///srv/git/app.git', /^a file: URL: /],
      ['/srv/git/app.git', /^not a URL: mfd fetches over HTTP\(S\) only/],
      ['https://', /^expected https:\/\/ followed by a host/],
      ['http:/host/app.git', /^expected http:\/\/ followed by a host/],
    ];
    for (const [url, message] of cases) {
      const got = issue(BASE.replace('https://git.example.com/app.git', url));
      assert.equal(got.path, 'repo.url', url);
      assert.match(got.message, message);
    }
    assert.equal(parse(BASE.replace('https://', 'HTTP://')).repo.url, 'HTTP://git.example.com/app.git');
    assert.equal(parse(BASE.replace('https://', 'http://127.0.0.1:8080/')).repo.url, 'http://127.0.0.1:8080/git.example.com/app.git');
  });

  test('a repo.url with a query or fragment is refused at load, and a token in it is not echoed', () => {
    for (const url of ['https://git.example.com/app.git?access_token=s3cretTOKEN', 'https://git.example.com/app.git?private_token=s3cretTOKEN&x=1', 'https://git.example.com/app.git#main']) {
      const got = issue(BASE.replace('https://git.example.com/app.git', url));
      assert.equal(got.path, 'repo.url', url);
      assert.match(got.message, /^holds a query or fragment \([?#]\.\.\.\), which git's HTTP protocol cannot carry \(it appends \/info\/refs to the path\): use https:\/\/host\/owner\/repo\.git, and a token in repo\.token_file or MFD_REPO_TOKEN; got "/, url);
      assert.doesNotMatch(got.error.message, /s3cret/, url);
    }
  });

  test('a malformed URL with a password is refused without echoing the password', () => {
    for (const url of ['http:/user:s3cretPASS@host/x', 'htp://user:s3cretPASS@host/x', 'user:s3cretPASS@host/x', 'https://user:s3cret%50ASS@/x']) {
      const got = issue(BASE.replace('https://git.example.com/app.git', url));
      assert.equal(got.path, 'repo.url');
      assert.doesNotMatch(got.error.message, /s3cret/, url);
      assert.match(got.error.message, /\*\*\*@/);
    }
  });

  test('a password holding an unencoded "/", "?" or "#" makes the URL invalid, and no part of it is echoed', () => {
    // The parser ends the host at that character, so the redaction, which ends userinfo there too, saw none.
    // With digits before the "/", the URL is valid, to host "user" and port 123: refused for the "@" in its path.
    for (const url of ['https://user:s3cret/PASS@host/x', 'https://user:s3cret#PASS@host/x', 'https://user:s3cret?PASS@host/x', 'https://user:123/s3cretPASS@host/x']) {
      const got = issue(BASE.replace('https://git.example.com/app.git', url));
      assert.equal(got.path, 'repo.url', url);
      assert.doesNotMatch(got.error.message, /s3cret|PASS/, url);
      assert.match(got.error.message, /got "https:\/\/\*\*\*@host\/x"/, url);
    }
  });

  test('every duration with a range is a key the schema allows', () => {
    for (const key of Object.keys(DURATIONS)) {
      const dot = key.lastIndexOf('.');
      assert.ok(allowedKeys()[key.slice(0, dot)]?.includes(key.slice(dot + 1)), key);
    }
  });
});
