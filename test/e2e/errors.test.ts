import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture, BUILD_COMMANDS } from '../helpers/app.ts';
import { mfd, startMfd, waitForOutput } from '../helpers/cli.ts';
import { freePort } from '../helpers/http.ts';
import { tmpRoot } from '../helpers/repo.ts';

const TOKEN = 'tok_Zx9QvSECRETvalue42';

/** Every file under dir, as text, to prove a secret was written nowhere. */
async function allText(dir: string): Promise<string> {
  let text = '';
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) text += await readFile(join(entry.parentPath, entry.name), 'latin1');
  }
  return text;
}

describe('mfd errors (e2e)', () => {
  test('help and --version work without a config file', async (t) => {
    const dir = await tmpRoot(t);
    const help = await mfd(['help'], { cwd: dir });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: mfd/);
    // A command's string flag shows its value's name, as the usage line does.
    assert.match(help.stdout, /^ {2}pause --reason TEXT +why/m);
    // No REF deploys [repo] branch when it is set (run/deploy.ts), not always the remote's HEAD.
    assert.match(help.stdout, /^ {2}deploy \[REF\] +.*\(default: \[repo\] branch, else the remote's HEAD\)$/m);
    assert.equal((await mfd(['--help'], { cwd: dir })).code, 0);
    assert.match((await mfd(['--version'], { cwd: dir })).stdout, /^mfd \d+\.\d+\.\d+/);
  });

  test('an unknown command or flag is a usage error, exit 2, with a hint', async (t) => {
    const dir = await tmpRoot(t);
    const r = await mfd(['deplyo'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: unknown command "deplyo"\n  hint: run "mfd help"/m);
    assert.equal((await mfd(['deploy', '--frobnicate'], { cwd: dir })).code, 2);
    assert.equal((await mfd(['--frobnicate'], { cwd: dir })).code, 2, 'an unknown flag without a command is no request for help');
  });

  test('a flag given to a command that does not take it is a usage error, exit 2, showing that command\'s usage', async (t) => {
    const dir = await tmpRoot(t);
    const cases: [string[], string][] = [
      [['ls', '--wait'], '"mfd ls" does not take --wait \\(deploy and rollback take it\\)\n  hint: usage: mfd ls$'],
      [['status', '--force'], '"mfd status" does not take --force \\(unlock takes it\\)\n  hint: usage: mfd status$'],
      [['rollback', '--dry-run'], '"mfd rollback" does not take --dry-run \\(deploy takes it\\)\n  hint: usage: mfd rollback \\[SHA\\] \\[--wait\\]$'],
      [['unlock', '--wait', 'app'], '"mfd unlock" does not take --wait \\(deploy and rollback take it\\)\n  hint: usage: mfd unlock \\[NAME\\] \\[--force\\]$'],
    ];
    for (const [args, expected] of cases) {
      const r = await mfd(args, { cwd: dir });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^error: ${expected}`, 'm'));
    }
    // The flags every command takes are still everyone's.
    const json = await mfd(['ls', '--json', '--ci'], { cwd: dir });
    assert.equal(json.code, 2, 'no config here: the flags were accepted');
    assert.equal(JSON.parse(json.stdout).code, 'CONFIG_NOT_FOUND');
    // --json given a value is refused, and the refusal still comes as the JSON asked for.
    const valued = await mfd(['ls', '--json=1'], { cwd: dir });
    assert.equal(valued.code, 2);
    assert.deepEqual(JSON.parse(valued.stdout), { ok: false, code: 'USAGE', message: 'option --json takes no value', hint: 'usage: mfd ls' });
  });

  test('a command given more arguments than it takes is a usage error, exit 2, naming its usage', async (t) => {
    const dir = await tmpRoot(t);
    const cases: [string[], string][] = [
      [['ls', 'extra'], 'mfd ls'], [['list', 'extra'], 'mfd list'], [['status', 'x'], 'mfd status'],
      [['history', 'x'], 'mfd history'], [['lock', 'list', 'x'], 'mfd lock list'],
      [['deploy', 'main', 'x'], 'mfd deploy \\[REF\\]'], [['rollback', 'a', 'b'], 'mfd rollback \\[SHA\\]'],
    ];
    for (const [args, usage] of cases) {
      const r = await mfd(args, { cwd: dir });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^error: too many arguments for "mfd ${args[0]}": "${args.at(-1)}"\\n  hint: usage: ${usage}$`, 'm'));
    }
  });

  test('a missing config names the path and exits 2 without a stack trace', async (t) => {
    const dir = await tmpRoot(t);
    const r = await mfd(['ls'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`error: config file not found: ${join(dir, 'mfd.toml')}`));
    assert.doesNotMatch(r.stderr, /    at /);
  });

  test('an invalid config lists every problem with its key path and exits 2; --verbose adds the stack', async (t) => {
    const dir = await tmpRoot(t);
    await writeFile(join(dir, 'mfd.toml'), '[repo]\nurl = "http://127.0.0.1:9/x"\n\n[build]\ncommands = ["npm ci"]\n\n[systemd]\nunti = "app"\n');
    const r = await mfd(['deploy'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /build\.commands\.0/);
    assert.match(r.stderr, /systemd\.unti/);
    assert.doesNotMatch(r.stderr, /    at /);
    const verbose = await mfd(['deploy', '--verbose'], { cwd: dir });
    assert.match(verbose.stderr, /    at /);
  });

  test('a token or secret file that is a FIFO, a device, a directory or huge is one line naming the key, exit 2, never a hang', async (t) => {
    const dir = await tmpRoot(t);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    await symlink('/dev/zero', join(dir, 'zero'));
    await mkdir(join(dir, 'dir'));
    await writeFile(join(dir, 'big'), 'x'.repeat(1024 * 1024));
    const base = '[repo]\nurl = "http://127.0.0.1:9/app.git"\n';
    const cases: [string, string, string, RegExp][] = [
      ['status', 'token_file = "fifo"', 'repo.token_file', /fifo is a FIFO \(named pipe\): a secret is read from a regular file/],
      ['status', 'token_file = "zero"', 'repo.token_file', /zero is a character device/],
      ['status', 'token_file = "dir"', 'repo.token_file', /dir is a directory/],
      ['status', 'token_file = "big"', 'repo.token_file', /big holds more than 64 KiB/],
      ['status', '[build]\ncommands = []\n[status]\nprovider = "gitea"\napi_url = "http://127.0.0.1:9/api/v1"\nrepository = "me/app"\ntoken_file = "fifo"', 'status.token_file', /fifo is a FIFO/],
      ['serve', '[build]\ncommands = []\n[serve]\nsecret_file = "fifo"', 'serve.secret_file', /fifo is a FIFO/],
    ];
    for (const [command, lines, key, why] of cases) {
      await writeFile(join(dir, 'mfd.toml'), `${base}${lines}\n${lines.includes('[build]') ? '' : '[build]\ncommands = []\n'}`, { mode: 0o600 });
      const run = startMfd([command, '--ci'], { cwd: dir });
      t.after(() => run.child.kill('SIGKILL'));
      // Bounded: before the fix a FIFO held mfd for ever, and /dev/zero filled its memory.
      await waitForOutput(run, 'hint:', 20_000);
      const r = await run.done;
      assert.equal(r.code, 2, `${lines}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^error: .*mfd\\.toml: (line \\d+: )?${key.replace('.', '\\.')}: `, 'm'), lines);
      assert.match(r.stderr, why, lines);
      assert.doesNotMatch(r.stderr, /    at /);
    }
  });

  test('--config naming a FIFO, a device or a directory is refused at once as not a regular file, exit 2, never a hang', async (t) => {
    const dir = await tmpRoot(t);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    await mkdir(join(dir, 'dir'));
    const cases: [string, string][] = [[join(dir, 'fifo'), 'a FIFO \\(named pipe\\)'], ['/dev/zero', 'a character device'], [join(dir, 'dir'), 'a directory']];
    for (const [path, kind] of cases) {
      const run = startMfd(['status', '--config', path], { cwd: dir });
      t.after(() => run.child.kill('SIGKILL'));
      // Bounded: before the fix a FIFO held mfd for ever, and /dev/zero filled its memory.
      await waitForOutput(run, 'hint:', 20_000);
      const r = await run.done;
      assert.equal(r.code, 2, `${path}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^error: ${path} is ${kind}, not a regular file: mfd reads its config from a regular file\\n  hint: pass --config the path of your mfd.toml`, 'm'));
      assert.doesNotMatch(r.stderr, /internal error|    at /);
    }
  });

  test('a NUL in a build argument or lock.dir is a config error, exit 2, before anything is fetched, never an internal error mid-deploy', async (t) => {
    const app = await appFixture(t);
    await app.commitVersion(1);
    for (const lines of ['[build]\ncommands = [["sh", "-c", "echo a\\u0000b"]]', '[build]\ncommands = []\n[lock]\nhost = true\ndir = "locks\\u0000"']) {
      await app.writeConfig(`[repo]\nurl = "${app.url}"\n${lines}\n`);
      const r = await mfd(['deploy', '--ci'], { cwd: app.root });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /^error: .*mfd\.toml: line \d+: (build\.commands\.0\.2|lock\.dir): holds a NUL character/m);
      assert.doesNotMatch(r.stderr, /internal error|    at /);
      assert.deepEqual((await readdir(app.root)).filter((n) => n.startsWith('mfd_') || n === 'active'), []);
    }
  });

  test('an unknown ref exits 4 naming the ref and the URL, and active is untouched', async (t) => {
    const app = await appFixture(t);
    await app.commitVersion(1);
    const r = await mfd(['deploy', 'no-such-branch'], { cwd: app.root });
    assert.equal(r.code, 4);
    assert.match(r.stderr, new RegExp(`error: ref "no-such-branch" not found in ${app.url}`));
    assert.match(r.stderr, /hint: /);
    assert.deepEqual((await readdir(app.root)).filter((n) => n.startsWith('mfd_') || n === 'active'), []);
  });

  test('an unreachable server exits 4 with the reason', async (t) => {
    const app = await appFixture(t);
    // A loopback port nothing listens on.
    await app.writeConfig(`[repo]\nurl = "http://127.0.0.1:${await freePort()}/app.git"\n\n[build]\ncommands = []\n`);
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 4);
    assert.match(r.stderr, /error: cannot reach http:\/\/127\.0\.0\.1:\d+\/app\.git/);
  });

  test('a deploy refuses to fetch or build below the free-space floor, exit 9, nothing touched', async (t) => {
    const app = await appFixture(t);
    await app.commitVersion(1);
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = []\n[deploy]\nmin_free = "1000TiB"\n`);
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 9, r.stderr);
    assert.match(r.stderr, /error: only [\d.]+\w+ free on the file system of .*, below the floor of 1000\.0TiB: not fetching or building/);
    assert.deepEqual((await readdir(app.root)).filter((n) => n.startsWith('mfd_') || n === 'active'), []);
  });

  test('a token authenticates, a wrong one exits 4, and the token appears in no output or file', async (t) => {
    const app = await appFixture(t, {
      auth: { username: 'mfd', password: TOKEN },
      config: (url) => `[repo]\nurl = "${url}"\ntoken = "${TOKEN}"\n\n[build]\n${BUILD_COMMANDS}\n`,
    });
    await app.commitVersion(1);
    const ok = await mfd(['deploy', '--verbose'], { cwd: app.root });
    assert.equal(ok.code, 0, ok.stderr);
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n\n[build]\ncommands = []\n`);
    const bad = await mfd(['deploy', '--verbose'], { cwd: app.root, env: { MFD_REPO_TOKEN: 'wrong-token-value' } });
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /error: authentication to http:\/\/127\.0\.0\.1:\d+\/app\.git failed/);
    for (const text of [ok.stdout, ok.stderr, bad.stdout, bad.stderr]) {
      assert.ok(!text.includes(TOKEN) && !text.includes('wrong-token-value'));
    }
    const files = await allText(app.root);
    assert.ok(!files.replace(TOKEN, '').includes(TOKEN), 'the token is only in mfd.toml');
    assert.ok(!(await allText(join(app.root, '.mfd'))).includes(TOKEN));
  });
});
