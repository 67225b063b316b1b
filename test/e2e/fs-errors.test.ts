import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { mfd, type MfdResult } from '../helpers/cli.ts';
import { deployInProcess } from '../helpers/context.ts';
import { asNobody } from '../helpers/tmpfs.ts';

const NOBODY = 65534;

function assertOneLine(r: MfdResult, code: number, message: RegExp, hint: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error|this is a bug|    at /, r.stderr);
  assert.match(r.stderr, new RegExp(`^error: ${message.source}\\n  hint: ${hint.source}`, 'm'));
}

const asRoot = process.getuid?.() === 0;

/** Gives the app root and its config to nobody (what a sudo run created stays root's); runs the CLI as nobody. */
async function handToNobody(root: string): Promise<(args: string[]) => Promise<MfdResult>> {
  await chmod(dirname(root), 0o755);
  await chown(root, NOBODY, NOBODY);
  await chown(join(root, 'mfd.toml'), NOBODY, NOBODY);
  return (args) => {
    const { bin, args: argv } = asNobody(['-C', root, ...args]);
    return mfd(argv, { bin, env: { USER: 'nobody' } });
  };
}

describe('file-system errors (e2e)', () => {
  test('.mfd being a file is one line naming it, exit 10, for ls and deploy', async (t) => {
    const app = await appFixture(t);
    await app.commitVersion(1);
    await writeFile(join(app.root, '.mfd'), 'not a directory\n');
    const mfdPath = join(app.root, '.mfd').replace(/[.]/g, '\\.');
    for (const args of [['ls'], ['deploy'], ['status']]) {
      const r = await mfd(args, { cwd: app.root });
      assertOneLine(r, 10, new RegExp(`cannot [a-z ]+ \\S+: ${mfdPath} is not a directory \\(ENOTDIR\\)`), new RegExp(`something of the wrong type .*mv ${mfdPath} `));
    }
  });

  test('a directory where the deploy lock belongs is one line, exit 10, and is left alone', async (t) => {
    const app = await appFixture(t);
    await app.commitVersion(1);
    const lock = join(app.root, '.mfd-deploy.lock');
    await mkdir(lock);
    await writeFile(join(lock, 'keep'), 'x');
    const r = await mfd(['deploy'], { cwd: app.root });
    assertOneLine(r, 10, /cannot use lock file \S+\.mfd-deploy\.lock: it is a directory, where mfd keeps a file \(EISDIR\)/, /.*mv \S+\.mfd-deploy\.lock /);
    assert.deepEqual(await readdir(lock), ['keep']);
    assert.deepEqual((await readdir(app.root)).filter((n) => n.startsWith('mfd_')), []);
    assert.equal((await mfd(['status'], { cwd: app.root })).code, 10);
  });

  test('a directory where a state file of .mfd belongs is one line naming it, exit 10, never an internal error', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    await deployInProcess(app.root, sha);
    const deployment = await readlink(join(app.root, 'active'));
    const files = ['pause.json', 'quarantine.json', 'history.jsonl', 'activations.jsonl', `deployments/${deployment}.json`];
    for (const file of files) {
      const path = join(app.root, '.mfd', file);
      const saved = await readFile(path).catch(() => undefined);
      await rm(path, { force: true });
      await mkdir(path);
      for (const args of [['status'], ['ls'], ['history'], ['pause']]) {
        const r = await mfd(args, { cwd: app.root });
        // Each command reads some of these files; one that reads this one says so in one line.
        if (r.code === 0) continue;
        assertOneLine(r, 10, new RegExp(`cannot read ${path.replace(/[.]/g, '\\.')}: it is a directory, where mfd keeps a file \\(EISDIR\\)`), /something of the wrong type/);
      }
      assert.equal((await mfd(['status'], { cwd: app.root })).code, 10, `status reads ${file}`);
      await rm(path, { recursive: true });
      if (saved) await writeFile(path, saved);
    }
  });

  test('a .mfd left owned by root by a sudo run: a redeploy works, a new build is one line with the chown, exit 10', { skip: !asRoot && 'needs root to make files another user cannot write' }, async (t) => {
    const app = await appFixture(t);
    const sha1 = await app.commitVersion(1);
    const sha2 = await app.commitVersion(2);
    // The "sudo mfd deploy": everything under the app root is root's.
    await deployInProcess(app.root, sha1);
    // The user owns the app root and its config, but not what the sudo run created.
    const run = await handToNobody(app.root);
    const ls = await run(['ls']);
    assert.equal(ls.code, 0, ls.stderr);
    const redeploy = await run(['deploy', sha1]);
    assert.equal(redeploy.code, 0, redeploy.stderr);
    assert.match(redeploy.stderr, /warning: cannot keep this run's log: cannot (open|create directory) \S+: permission denied \(EACCES\)/);
    const build = await run(['deploy', sha2]);
    assertOneLine(build, 10, /cannot open \S+\.mfd\/deployments\/\S+: permission denied \(EACCES\)/,
      new RegExp(`see who owns it: ls -ld \\S+; run mfd as the user that owns the app root \\(this is nobody\\), or give it back: sudo chown -R nobody ${join(app.root, '.mfd')}`));
    assert.deepEqual((await readdir(app.root)).filter((n) => n.endsWith(sha2) || n === '.mfd-deploy.lock'), []);
  });

  test('a deployment that prune could only partly remove is never reused: the redeploy of its sha builds afresh', { skip: !asRoot && 'needs root to run as a user that may not remove some files' }, async (t) => {
    // A build that leaves a read-only directory (as Go's module cache is): its user cannot remove
    // the files in it, so a prune's rm -rf stops half-way, as a kill -9 in the middle of it would.
    const app = await appFixture(t, {
      config: (url) => `[repo]\nurl = "${url}"\n\n[build]\ncommands = [["sh", "build.sh"], ["sh", "-c", "mkdir -p cache/mod && echo x > cache/mod/f && chmod 555 cache/mod"]]\n\n[deploy]\nkeep = 1\n`,
    });
    const shas = [await app.commitVersion(1), await app.commitVersion(2), await app.commitVersion(3)];
    const run = await handToNobody(app.root);
    for (const sha of shas) assert.equal((await run(['deploy', sha])).code, 0);
    const first = (await readdir(app.root)).find((n) => n.startsWith('mfd_') && n.endsWith(shas[0]!));
    // The third deploy pruned the first and could not finish: it says so, and the deploy succeeded.
    const redeploy = await run(['deploy', shas[0]!]);
    assert.equal(redeploy.code, 0, redeploy.stderr);
    assert.doesNotMatch(redeploy.stderr, /reusing mfd_/, 'a half-removed directory is no deployment to reuse');
    // What is left of it is named, with the command that removes it.
    assert.match(redeploy.stderr, /warning: could not remove \.mfd-prune-mfd_\S+, left by an earlier prune: EACCES\n  hint: remove it by hand: rm -rf \S+\/\.mfd-prune-mfd_/);
    assert.equal(await readFile(join(app.root, 'active', 'version.txt'), 'utf8'), '1\n');
    assert.notEqual(await readlink(join(app.root, 'active')), first);
    const ls = await run(['ls', '--json']);
    assert.ok(!(JSON.parse(ls.stdout) as { directory: string }[]).some((d) => d.directory === first), ls.stdout);
  });

  test('the host lock dir is created 1777 despite the umask, so a second user can take the host lock', { skip: !asRoot && 'needs root to run as a second user' }, async (t) => {
    const before = process.umask(0o022);
    t.after(() => process.umask(before));
    const config = (lockDir: string) => (url: string) =>
      `[repo]\nurl = "${url}"\n\n[build]\ncommands = []\n\n[lock]\nhost = true\ndir = "${lockDir}"\n`;
    const a = await appFixture(t);
    const lockDir = join(dirname(a.root), 'locks', 'mfd');
    await a.writeConfig(config(lockDir)(a.url));
    await a.commitVersion(1);
    assert.equal((await mfd(['deploy'], { cwd: a.root })).code, 0);
    assert.equal((await stat(lockDir)).mode & 0o7777, 0o1777);

    const b = await appFixture(t);
    await b.writeConfig(config(lockDir)(b.url));
    await b.commitVersion(1);
    await chmod(dirname(b.root), 0o755);
    await chmod(dirname(a.root), 0o755);
    await chown(b.root, NOBODY, NOBODY);
    await chown(join(b.root, 'mfd.toml'), NOBODY, NOBODY);
    const { bin, args } = asNobody(['-C', b.root, 'deploy']);
    const second = await mfd(args, { bin, env: { USER: 'nobody' } });
    assert.equal(second.code, 0, second.stderr);

    // A dir made before this fix (or by hand) without 1777: nobody's deploy says what to chmod.
    await chmod(lockDir, 0o1755);
    const refused = await mfd(args, { bin, env: { USER: 'nobody' } });
    assertOneLine(refused, 10, /cannot \S+( \S+)? \S+: permission denied \(EACCES\)/,
      new RegExp(`the host lock directory ${lockDir} has mode 1755 \\(owner uid 0\\), not 1777: .*sudo chmod 1777 ${lockDir}`));
    assert.equal((await stat(lockDir)).mode & 0o7777, 0o1755, 'an existing dir is left as its owner made it');
  });

  test('mfd lock list and mfd unlock never say "no locks" of a host lock dir they may not read', { skip: !asRoot && 'needs root to run as a second user' }, async (t) => {
    const app = await appFixture(t);
    const lockDir = join(dirname(app.root), 'locks');
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = []\n[lock]\nhost = true\ndir = "${lockDir}"\n`);
    // Root's deploy holds the host lock in a dir root made 0700 (by hand, not as mfd makes it).
    await mkdir(lockDir, { mode: 0o700 });
    await writeFile(join(lockDir, 'host.lock'), JSON.stringify({ pid: process.pid, user: 'root', hostname: hostname(), timestamp: Date.now(), command: 'deploy', ref: null }));
    const asUser = await handToNobody(app.root);
    for (const args of [['lock', 'list'], ['unlock', 'host']]) {
      const r = await asUser(args);
      assert.doesNotMatch(r.stdout, /no (host )?locks? (is )?held/, `${args.join(' ')}: ${r.stdout}`);
      assertOneLine(r, 10, new RegExp(`cannot read directory ${lockDir}: permission denied \\(EACCES\\)`), new RegExp(`the host lock directory ${lockDir} is not readable by this user: .*sudo chmod 1777 ${lockDir}`));
    }
    assert.equal((await mfd(['lock', 'list', '--json'], { cwd: app.root })).stdout.includes('"host"'), true, 'root sees the lock');
  });
});
