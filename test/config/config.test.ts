import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { allowedKeys, loadConfig, parseConfig } from '../../src/config/config.ts';
import { ConfigInvalidError } from '../../src/errors/index.ts';
import { parseDuration } from '../../src/config/duration.ts';
import { tmpRoot } from '../helpers/repo.ts';

const SECRET = 'ghp_VERYsecretTOKEN123456';
const parse = (text: string, env: Record<string, string> = {}) => parseConfig(text, { file: '/srv/app/mfd.toml', env }).config;
function problems(text: string): ConfigInvalidError {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof ConfigInvalidError, String(error));
    return error;
  }
  assert.fail('expected a ConfigInvalidError');
}

describe('config', () => {
  test("Go mfd's own mfd.toml loads unchanged, with the defaults", () => {
    const c = parse('[repo]\nurl = "https://github.com/theandrew168/mfd"\n\n[build]\ncommands = [\n    ["go", "build", "-o", "mfd", "."],\n]\n');
    assert.equal(c.repo.url, 'https://github.com/theandrew168/mfd');
    assert.deepEqual(c.repo.auth, { kind: 'none' });
    assert.deepEqual(c.build.commands, [['go', 'build', '-o', 'mfd', '.']]);
    assert.deepEqual(c.systemd, { scope: 'system' });
    assert.equal(c.deploy.keep, 3);
    assert.equal(c.root, '/srv/app');
  });

  test('every key is read: branch, token, timeout, unit, scope, keep; commands = [] is allowed', () => {
    const c = parse(`[repo]\nurl = "https://h/r"\nbranch = "prod"\ntoken = "${SECRET}"\n[build]\ncommands = []\ntimeout = "1m30s"\n[systemd]\nunit = "app"\nscope = "user"\n[deploy]\nkeep = 5\n`);
    assert.equal(c.repo.branch, 'prod');
    assert.equal(c.repo.auth.kind === 'token' && c.repo.auth.token.reveal(), SECRET);
    assert.deepEqual(c.build, { commands: [], timeoutMs: 90_000 });
    assert.deepEqual(c.systemd, { unit: 'app', scope: 'user' });
    assert.equal(c.deploy.keep, 5);
  });

  test('username + password is basic auth', () => {
    const c = parse(`[repo]\nurl = "https://h/r"\nusername = "me"\npassword = "${SECRET}"\n[build]\ncommands = []\n`);
    assert.equal(c.repo.auth.kind, 'basic');
    assert.equal(c.repo.auth.kind === 'basic' && c.repo.auth.password.reveal(), SECRET);
  });

  test('every problem is reported at once, each with its key path and line', () => {
    const err = problems('[repo]\nbranch = 5\n\n[build]\ncommands = ["npm ci", ["ok"]]\n\n[systemd]\nunti = "app"\nscope = "root"\n[deploy]\nkeep = 0\n');
    const byPath = new Map(err.issues.map((i) => [i.path, i]));
    assert.match(byPath.get('repo.url')!.message, /is required/);
    assert.match(byPath.get('repo.branch')!.message, /expected a string, got 5/);
    assert.equal(byPath.get('repo.branch')!.line, 2);
    assert.match(byPath.get('build.commands.0')!.message, /expected an array of strings.*got "npm ci"/);
    assert.equal(byPath.get('build.commands.0')!.line, 5);
    assert.match(byPath.get('systemd.unti')!.message, /unknown key \(did you mean "unit"\?\)/);
    assert.equal(byPath.get('systemd.unti')!.line, 8);
    assert.match(byPath.get('systemd.scope')!.message, /expected one of "system", "user"/);
    assert.ok(byPath.has('deploy.keep'));
    assert.match(err.message, /mfd\.toml: line 5: build\.commands\.0: expected an array of strings/);
    assert.equal(err.exitCode, 2);
  });

  test('unknown tables and top-level keys are errors, never ignored', () => {
    const err = problems('title = "x"\n[repo]\nurl = "https://h/r"\n[build]\ncommands = []\n[healht]\nurl = "x"\n');
    assert.deepEqual(err.issues.map((i) => i.path).sort(), ['healht', 'title']);
  });

  test('a TOML syntax error names its line', () => {
    const err = problems('[repo]\nurl = "unterminated\n[build]\n');
    assert.equal(err.issues[0]!.line, 2);
    assert.match(err.message, /TOML syntax error/);
  });

  test('credential rules: token with password, password without username, token with token_file, username alone', () => {
    const base = '[build]\ncommands = []\n[repo]\nurl = "https://h/r"\n';
    assert.ok(problems(`${base}token = "a"\nusername = "u"\npassword = "p"\n`).issues.some((i) => /not both/.test(i.message)));
    assert.ok(problems(`${base}password = "p"\n`).issues.some((i) => i.path === 'repo.username'));
    assert.ok(problems(`${base}token = "a"\ntoken_file = "t"\n`).issues.some((i) => i.path === 'repo.token_file'));
    assert.ok(problems(`${base}username = "u"\n`).issues.some((i) => i.path === 'repo.password'));
  });

  test('secrets never appear in errors, warnings, JSON or inspect output', () => {
    const err = problems(`[repo]\nurl = "https://h/r"\ntoken = ["${SECRET}"]\npassword = "${SECRET}"\n[build]\ncommands = []\n`);
    assert.ok(!err.message.includes(SECRET));
    const c = parse(`[repo]\nurl = "https://h/r"\ntoken = "${SECRET}"\n[build]\ncommands = []\n`);
    assert.ok(!JSON.stringify(c).includes(SECRET));
    assert.ok(!inspect(c, { depth: 10 }).includes(SECRET));
    assert.ok(!`${c.repo.auth.kind === 'token' ? c.repo.auth.token : ''}`.includes(SECRET));
  });

  test('MFD_REPO_TOKEN is used when the file has no credentials', () => {
    const c = parse('[repo]\nurl = "https://h/r"\n[build]\ncommands = []\n', { MFD_REPO_TOKEN: SECRET });
    assert.equal(c.repo.auth.kind === 'token' && c.repo.auth.token.reveal(), SECRET);
  });

  test('credentials inside repo.url are accepted with a warning that does not repeat them', () => {
    const c = parse(`[repo]\nurl = "https://me:${SECRET}@h/r"\n[build]\ncommands = []\n`);
    assert.equal(c.warnings.length, 1);
    assert.ok(!c.warnings[0]!.includes(SECRET));
  });

  test('loadConfig reads token_file relative to the config, trims it, and warns about loose permissions', async (t) => {
    const dir = await tmpRoot(t);
    await writeFile(join(dir, 'token'), `${SECRET}\n`, { mode: 0o644 });
    await writeFile(join(dir, 'mfd.toml'), '[repo]\nurl = "https://h/r"\ntoken_file = "token"\n[build]\ncommands = []\n', { mode: 0o644 });
    const c = await loadConfig(join(dir, 'mfd.toml'), {});
    assert.equal(c.repo.auth.kind === 'token' && c.repo.auth.token.reveal(), SECRET);
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0]!, /token.*readable by other users.*chmod 600/);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.build.commands));
    await chmod(join(dir, 'token'), 0o600);
    assert.deepEqual((await loadConfig(join(dir, 'mfd.toml'), {})).warnings, []);
  });

  test('repo.token_file and status.token_file expand ${CREDENTIALS_DIRECTORY}, as the serve.* secret files do; unset, it says so', async (t) => {
    const dir = await tmpRoot(t);
    const credentials = join(dir, 'credentials');
    await mkdir(credentials);
    await writeFile(join(credentials, 'repo-token'), `${SECRET}\n`, { mode: 0o600 });
    await writeFile(join(credentials, 'status-token'), 'status-secret\n', { mode: 0o600 });
    const status = '[status]\nprovider = "gitea"\napi_url = "https://git.example.com/api/v1"\nrepository = "me/app"\ntoken_file = "${CREDENTIALS_DIRECTORY}/status-token"\n';
    await writeFile(join(dir, 'mfd.toml'), `[repo]\nurl = "https://h/r"\ntoken_file = "\${CREDENTIALS_DIRECTORY}/repo-token"\n[build]\ncommands = []\n${status}`, { mode: 0o600 });
    const c = await loadConfig(join(dir, 'mfd.toml'), { CREDENTIALS_DIRECTORY: credentials });
    assert.equal(c.repo.auth.kind === 'token' && c.repo.auth.token.reveal(), SECRET);
    assert.equal(c.status?.token?.reveal(), 'status-secret');
    assert.deepEqual(c.warnings, []);
    await assert.rejects(loadConfig(join(dir, 'mfd.toml'), {}), (error: unknown) => {
      assert.ok(error instanceof ConfigInvalidError, String(error));
      assert.match(error.message, /repo\.token_file.*\$\{CREDENTIALS_DIRECTORY\} is not set: systemd sets it for a unit with LoadCredential=/);
      return true;
    });
  });

  test('a token file holding whitespace or a control character inside the token is a config error naming the file and the key, never the contents', async (t) => {
    const dir = await tmpRoot(t);
    const status = '[status]\nprovider = "gitea"\napi_url = "https://git.example.com/api/v1"\nrepository = "me/app"\ntoken_file = "status-token"\n';
    await writeFile(join(dir, 'mfd.toml'), `[repo]\nurl = "https://h/r"\ntoken_file = "repo-token"\n[build]\ncommands = []\n${status}`, { mode: 0o600 });
    await writeFile(join(dir, 'status-token'), 'status-secret\n', { mode: 0o600 });
    // Surrounding whitespace (a trailing newline, CRLF) is trimmed, as before.
    await writeFile(join(dir, 'repo-token'), `\r\n ${SECRET}\r\n`, { mode: 0o600 });
    const c = await loadConfig(join(dir, 'mfd.toml'), {});
    assert.equal(c.repo.auth.kind === 'token' && c.repo.auth.token.reveal(), SECRET);
    const refused = async (file: string, content: string, key: string) => {
      await writeFile(join(dir, file), content, { mode: 0o600 });
      await assert.rejects(loadConfig(join(dir, 'mfd.toml'), {}), (error: unknown) => {
        assert.ok(error instanceof ConfigInvalidError, String(error));
        assert.equal(error.exitCode, 2);
        assert.ok(error.message.includes(`${key}: ${join(dir, file)} holds whitespace or a control character inside the token`), `${JSON.stringify(content)}: ${error.message}`);
        for (const part of content.split(/\s+/).filter((p) => /secret/i.test(p))) assert.ok(!`${error.message} ${error.hint}`.includes(part), 'the contents are never shown');
        return true;
      });
      await writeFile(join(dir, file), file === 'repo-token' ? `${SECRET}\n` : 'status-secret\n', { mode: 0o600 });
    };
    for (const content of [`${SECRET}\nsecond-line-secret\n`, `Bearer ${SECRET}\n`, `${SECRET}\u001b[2J\n`, `${SECRET}\tother\n`]) {
      await refused('repo-token', content, 'repo.token_file');
    }
    await refused('status-token', `token status-secret\n`, 'status.token_file');
  });

  test('a token or password sent over http:// beyond this host is warned about, never echoed; https:// and loopback are not', () => {
    const status = '[status]\nprovider = "gitea"\napi_url = "http://git.example.com/api/v1"\nrepository = "me/app"\n';
    const warned = (text: string, env: Record<string, string> = {}) => parse(text, env).warnings.filter((w) => /unencrypted/.test(w));
    const repo = (url: string, auth: string) => `[repo]\nurl = "${url}"\n${auth}[build]\ncommands = []\n`;
    assert.match(warned(repo('http://git.example.com/me/app.git', `token = "${SECRET}"\n`))[0] ?? '', /mfd\.toml: repo\.url is http:\/\/ to git\.example\.com: the repository credential is sent over the network unencrypted.*use https:\/\//);
    assert.equal(warned(repo('http://git.example.com/me/app.git', 'username = "u"\npassword = "p"\n')).length, 1);
    assert.equal(warned(repo('http://git.example.com/me/app.git', ''), { MFD_REPO_TOKEN: SECRET }).length, 1);
    assert.equal(warned(`${repo('https://git.example.com/me/app.git', '')}${status}`, { MFD_STATUS_TOKEN: SECRET }).length, 1, 'the status token');
    for (const text of [repo('https://git.example.com/me/app.git', `token = "${SECRET}"\n`), repo('http://127.0.0.1:3000/me/app.git', `token = "${SECRET}"\n`), repo('http://git.example.com/me/app.git', ''), `${repo('https://git.example.com/me/app.git', '')}${status}`]) {
      assert.deepEqual(warned(text), [], text);
    }
    assert.ok(!warned(repo('http://git.example.com/me/app.git', `token = "${SECRET}"\n`)).join('').includes(SECRET));
  });

  test('a config holding a token that others can read is warned about; mode 600 is not', async (t) => {
    const dir = await tmpRoot(t);
    const file = join(dir, 'mfd.toml');
    await writeFile(file, `[repo]\nurl = "https://h/r"\ntoken = "${SECRET}"\n[build]\ncommands = []\n`, { mode: 0o644 });
    await chmod(file, 0o644);
    const loose = await loadConfig(file, {});
    assert.match(loose.warnings[0]!, /mfd\.toml is readable by other users \(mode 0644\)/);
    assert.ok(!loose.warnings[0]!.includes(SECRET));
    await chmod(file, 0o600);
    assert.deepEqual((await loadConfig(file, {})).warnings, []);
  });

  test('a missing config file or token file is a config error naming the path', async (t) => {
    const dir = await tmpRoot(t);
    await assert.rejects(loadConfig(join(dir, 'mfd.toml'), {}), { code: 'CONFIG_NOT_FOUND', message: new RegExp(join(dir, 'mfd.toml')) });
    await writeFile(join(dir, 'mfd.toml'), '[repo]\nurl = "https://h/r"\ntoken_file = "nope"\n[build]\ncommands = []\n');
    await assert.rejects(loadConfig(join(dir, 'mfd.toml'), {}), { code: 'CONFIG_INVALID', message: /repo\.token_file: cannot read .*nope: ENOENT/ });
  });

  test('durations are Go-style strings; a bare number or junk is refused', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    for (const bad of ['30', 'soon', '', '5 m']) assert.throws(() => parseDuration(bad), RangeError);
    assert.ok(problems('[repo]\nurl = "https://h/r"\n[build]\ncommands = []\ntimeout = "forever"\n').issues.some((i) => i.path === 'build.timeout'));
  });

  test('the shipped examples are valid configs, also with every commented key switched on', async () => {
    for (const rel of ['../../mfd.toml.example', '../../examples/app/mfd.toml']) {
      const text = await readFile(new URL(rel, import.meta.url), 'utf8');
      parse(text);
    }
    const withHealth = (await readFile(new URL('../../mfd.toml.example', import.meta.url), 'utf8'))
      .replace(/^# \[health\].*$/m, '[health]')
      .replace(/^# (url|status|body|timeout|interval|retries|delay) = /gm, '$1 = ');
    assert.deepEqual(parse(withHealth).health, {
      kind: 'http', url: 'http://127.0.0.1:8080/health', status: 200, body: 'ok', timeoutMs: 30_000, intervalMs: 1000, retries: 30, delayMs: 0,
    });
    // Uncomment every `# key = value` line (one credential style at a time is the rule).
    const text = (await readFile(new URL('../../mfd.toml.example', import.meta.url), 'utf8'))
      .replace(/^# (branch|token_file|unit|scope|keep|wait|retry_interval|retry_attempts|stale|host|resources|dir) = /gm, '$1 = ')
      .replace(/^# timeout = "10m"/m, 'timeout = "10m"');
    const c = parse(text);
    assert.equal(c.repo.branch, 'main');
    assert.equal(c.build.timeoutMs, 600_000);
    assert.deepEqual(c.systemd, { unit: 'app', scope: 'system' });
    assert.deepEqual(c.lock, {
      wait: false, retryIntervalMs: 30_000, retryAttempts: 60, staleMs: 300_000, host: false, resources: ['postgres'], dir: '/run/lock/mfd',
    });
  });

  test('[health] takes a url or a command, not both, and not neither', () => {
    const base = '[repo]\nurl = "https://h/r"\n[build]\ncommands = []\n[health]\n';
    assert.ok(problems(`${base}url = "http://x/"\ncommand = ["true"]\n`).issues.some((i) => i.path === 'health.command'));
    assert.ok(problems(`${base}timeout = "1s"\n`).issues.some((i) => i.path === 'health'));
    assert.ok(problems(`${base}command = ["true"]\nstatus = 200\n`).issues.some((i) => i.path === 'health.status'));
    assert.ok(problems(`${base}url = "ftp://x/"\n`).issues.some((i) => i.path === 'health.url'));
    assert.deepEqual(parse(`${base}command = ["true"]\ntimeout = "1s"\ninterval = "100ms"\n`).health, {
      kind: 'command', command: ['true'], timeoutMs: 1000, intervalMs: 100, retries: 10, delayMs: 0,
    });
  });

  test('every kind of bad value gets a message that says what was expected', () => {
    const err = problems('[repo]\nurl = ""\n[build]\ncommands = []\n[deploy]\nkeep = 1.5\n[lock]\nresources = ["a b"]\nretry_attempts = 0\n[health]\nurl = "ftp://x/"\nstatus = 700\nretries = -1\n');
    const byPath = new Map(err.issues.map((i) => [i.path, i.message]));
    assert.match(byPath.get('repo.url')!, /expected a non-empty string, got ""/);
    assert.match(byPath.get('deploy.keep')!, /expected an integer, got 1\.5/);
    assert.match(byPath.get('lock.resources.0')!, /expected letters, digits.*got "a b"/);
    assert.match(byPath.get('lock.retry_attempts')!, /expected at least 1, got 0/);
    assert.match(byPath.get('health.url')!, /expected an http:\/\/ or https:\/\/ URL, got "ftp:\/\/x\/"/);
    assert.match(byPath.get('health.status')!, /expected at most 599, got 700/);
    assert.match(byPath.get('health.retries')!, /expected at least 0, got -1/);
    for (const message of byPath.values()) assert.doesNotMatch(message, /Invalid input/);
  });

  test('systemd.unit is a service unit name by systemd\'s rules, never something systemctl would take for an option', () => {
    const unit = (name: string) => `[repo]\nurl = "http://h/a.git"\n[build]\ncommands = []\n[systemd]\nunit = ${JSON.stringify(name)}\n`;
    for (const good of ['app', 'app.service', 'app@1.service', 'my-app_2', 'web:blue', 'x\\x2dy']) assert.equal(parse(unit(good)).systemd.unit, good);
    for (const bad of ['-Hroot@example.com', '--now', '.service', 'a b', 'app/..', 'a'.repeat(256)]) {
      const err = problems(unit(bad));
      assert.match(err.issues.find((i) => i.path === 'systemd.unit')?.message ?? '', /expected a systemd unit name/, bad);
    }
    assert.match(problems(unit('app.socket')).issues[0]!.message, /expected a service: .* name app, not app\.socket/);
  });

  test('systemd.unit naming a template without its instance (app@, app@.service, @1) is a config error, not a failed restart after the swap', () => {
    const unit = (name: string) => `[repo]\nurl = "http://h/a.git"\n[build]\ncommands = []\n[systemd]\nunit = ${JSON.stringify(name)}\n`;
    for (const bad of ['app@', 'app@.service', '@1', '@1.service']) {
      const err = problems(unit(bad));
      assert.deepEqual(err.issues.map((i) => [i.path, i.line]), [['systemd.unit', 6]], bad);
      assert.match(err.issues[0]!.message, /expected a template's instance, as app@1 or app@1\.service/, bad);
    }
    assert.equal(parse(unit('app@blue')).systemd.unit, 'app@blue');
  });

  test('[deploy] min_free is a size with a unit, 100MiB by default', () => {
    const base = '[repo]\nurl = "https://h/r"\n[build]\ncommands = []\n';
    assert.equal(parse(base).deploy.minFreeBytes, 100 * 1024 ** 2);
    assert.equal(parse(`${base}[deploy]\nmin_free = "2GiB"\n`).deploy.minFreeBytes, 2 * 1024 ** 3);
    assert.equal(parse(`${base}[deploy]\nmin_free = "500MB"\n`).deploy.minFreeBytes, 500e6);
    assert.ok(problems(`${base}[deploy]\nmin_free = "lots"\n`).issues.some((i) => i.path === 'deploy.min_free'));
  });

  test('a size too large for a number (400 digits) is a config error, not a floor of "InfinityTiB" at deploy time', () => {
    const base = '[repo]\nurl = "https://h/r"\n[build]\ncommands = []\n';
    const err = problems(`${base}[deploy]\nmin_free = "${'9'.repeat(400)}TiB"\n`);
    assert.deepEqual(err.issues.map((i) => [i.path, i.line]), [['deploy.min_free', 6]]);
    assert.match(err.issues[0]!.message, /^expected a size such as "512MiB" or "2GB", got "9{50}/);
  });

  test('[lock] defaults, and its values are checked like every other key', () => {
    const c = parse('[repo]\nurl = "https://h/r"\n[build]\ncommands = []\n');
    assert.deepEqual(c.lock, { wait: false, retryIntervalMs: 30_000, retryAttempts: 60, staleMs: 300_000, host: false, resources: [] });
    const err = problems('[repo]\nurl = "https://h/r"\n[build]\ncommands = []\n[lock]\nstale = "soon"\nresources = ["a b"]\nretry_attempts = 0\nwiat = true\n');
    assert.deepEqual(err.issues.map((i) => i.path).sort(), ['lock.resources.0', 'lock.retry_attempts', 'lock.stale', 'lock.wiat']);
    assert.equal(parse('[repo]\nurl = "https://h/r"\n[build]\ncommands = []\n[lock]\ndir = "locks"\n').lock.dir, '/srv/app/locks');
  });

  test('a typo of a key in any table gets a suggestion drawn from the schema', () => {
    const err = problems('[repo]\nurl = "https://h/r"\nbrnach = "x"\n[build]\ncommands = []\n[lock]\nstael = "1m"\n[helth]\n');
    assert.deepEqual(err.issues.map((i) => `${i.path}: ${i.message}`).sort(), [
      'helth: unknown key (did you mean "health"?)',
      'lock.stael: unknown key (did you mean "stale"?)',
      'repo.brnach: unknown key (did you mean "branch"?)',
    ]);
  });

  test('a typo of a key in a [[build.cache]] table gets a suggestion too, at its entry\'s path', () => {
    const err = problems('[repo]\nurl = "https://h/r"\n[build]\ncommands = [["npm", "ci"]]\n[[build.cache]]\ncommand = 0\ninput = ["package-lock.json"]\noutputs = ["node_modules"]\n');
    assert.deepEqual(err.issues.map((i) => `${i.path}: ${i.message}`).sort(), [
      'build.cache.0.input: unknown key (did you mean "inputs"?)',
      'build.cache.0.inputs: is required',
    ].sort());
    assert.deepEqual(allowedKeys()['build.cache[]'], ['command', 'inputs', 'outputs', 'env']);
  });

  test('mfd.toml.example shows every key the schema allows, under its table, and loads', async () => {
    const example = await readFile(new URL('../../mfd.toml.example', import.meta.url), 'utf8');
    const shown = new Map<string, Set<string>>([['', new Set()]]);
    // An array of tables ([[build.cache]]) is shown as `cache = [` and one inline table per line.
    const inline = new Map<string, Set<string>>();
    let table = '';
    let list = '';
    for (const line of example.split('\n')) {
      const header = /^#?\s*\[(\w+)\]/.exec(line);
      if (header) shown.set((table = header[1]!), new Set());
      const key = /^#?\s*(\w+)\s*=/.exec(line);
      if (key) shown.get(table)!.add(key[1]!);
      const opens = /^#?\s*(\w+)\s*=\s*\[\s*$/.exec(line);
      if (opens) list = `${table}.${opens[1]}[]`;
      const element = /^#?\s*\{(.*)\}/.exec(line);
      if (element && list) for (const m of element[1]!.matchAll(/(\w+)\s*=/g)) inline.set(list, (inline.get(list) ?? new Set()).add(m[1]!));
    }
    for (const [path, keys] of Object.entries(allowedKeys())) {
      const expected = path === '' ? [...shown.keys()].filter(Boolean) : [...(shown.get(path) ?? inline.get(path) ?? [])];
      assert.deepEqual([...keys].sort(), expected.sort(), `[${path}] in mfd.toml.example`);
    }
    // As shipped (its commented keys left out) it is a valid config.
    assert.equal(parse(example).build.commands.length, 2);
  });
});
