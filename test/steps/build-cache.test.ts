import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readFile, readlink, readdir, rm, symlink, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture, BUILD_COMMANDS, type AppFixture } from '../helpers/app.ts';
import { deployInProcess, testContext } from '../helpers/context.ts';
import { HISTORY } from '../../src/commands/history.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { parseConfig } from '../../src/config/config.ts';
import { ConfigInvalidError } from '../../src/errors/index.ts';
import { layoutOf } from '../../src/state/layout.ts';
import { readRecords } from '../../src/state/record.ts';
import { readHistory } from '../../src/state/history.ts';

// A stand-in for `npm ci`: node_modules from the lockfile, with a relative link as npm makes in
// .bin, and one line appended to $MARKER each time it really runs.
const INSTALL_SH = `echo ran >> "$MARKER"
mkdir -p node_modules/.bin
cp lock.txt node_modules/dep.txt
ln -s ../dep.txt node_modules/.bin/tool
`;

interface Scene {
  app: AppFixture;
  marker: string;
  runs: () => Promise<number>;
  deploy: (n: number, lock: string, env?: Record<string, string>) => Promise<{ name: string; out: string }>;
}

async function scene(t: TestContext, cache = 'command = 0\ninputs = ["lock.txt", "missing.txt"]\noutputs = ["node_modules"]\n', install = INSTALL_SH): Promise<Scene> {
  const app = await appFixture(t);
  const marker = join(await tmpRoot(t), 'runs');
  await app.writeConfig(`[repo]\nurl = "${app.url}"\n\n[build]\ncommands = [["sh", "install.sh"], ["sh", "build.sh"]]\n\n[[build.cache]]\n${cache}\n[deploy]\nkeep = 10\n`);
  const runs = async () => (await readFile(marker, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  return {
    app, marker, runs,
    async deploy(n, lock, env = {}) {
      await app.commitVersion(n, { extra: { 'install.sh': install, 'lock.txt': `${lock}\n` } });
      const r = await deployInProcess(app.root, undefined, { env: { MARKER: marker, ...env } });
      const name = await readlink(join(app.root, 'active'));
      return { name, out: r.stdout + r.stderr };
    },
  };
}

const keysOf = async (root: string, name: string) => (await readRecords(layoutOf(root, 1))).get(name)?.cacheKeys ?? [];

describe('build cache', () => {
  test('an unchanged lockfile reuses node_modules as a copy (not a link), a changed one runs the install, and an older kept deployment serves when it returns', async (t) => {
    const s = await scene(t);
    const first = await s.deploy(1, 'A');
    assert.equal(await s.runs(), 1);
    assert.equal((await keysOf(s.app.root, first.name)).length, 1);

    const second = await s.deploy(2, 'A');
    assert.equal(await s.runs(), 1, 'the install did not run');
    assert.match(second.out, new RegExp(`build: sh install\\.sh skipped: node_modules reused from ${first.name} \\(inputs unchanged\\)`));
    const dep = join(s.app.root, second.name, 'node_modules', 'dep.txt');
    assert.equal(await readFile(dep, 'utf8'), 'A\n');
    // A copy, never a hard link: a build writing into it cannot change the rollback target.
    const [a, b] = await Promise.all([lstat(join(s.app.root, first.name, 'node_modules', 'dep.txt')), lstat(dep)]);
    assert.notEqual(a.ino, b.ino);
    assert.equal(b.nlink, 1);
    // The link inside is copied as a link, verbatim.
    assert.equal(await readlink(join(s.app.root, second.name, 'node_modules', '.bin', 'tool')), '../dep.txt');
    // The command after it still ran.
    assert.ok((await readdir(join(s.app.root, second.name))).includes('build-info.json'));
    assert.deepEqual(await keysOf(s.app.root, second.name), await keysOf(s.app.root, first.name));

    const third = await s.deploy(3, 'B');
    assert.equal(await s.runs(), 2, 'a changed lockfile runs the install');
    assert.doesNotMatch(third.out, /skipped/);
    assert.equal(await readFile(join(s.app.root, third.name, 'node_modules', 'dep.txt'), 'utf8'), 'B\n');

    // The lockfile returns: the active deployment (B) has another key; an older kept one has it.
    const fourth = await s.deploy(4, 'A');
    assert.equal(await s.runs(), 2);
    const from = /reused from (\S+)/.exec(fourth.out)?.[1];
    assert.ok(from === first.name || from === second.name, fourth.out);
    assert.notEqual(from, third.name);
  });

  test('a reuse is in the history: which command, from which deployment, in the line, in "mfd history" and in --json', async (t) => {
    const s = await scene(t);
    const first = await s.deploy(1, 'A');
    const second = await s.deploy(2, 'A');
    assert.equal(await s.runs(), 1);
    const [newest, oldest] = await readHistory(layoutOf(s.app.root, 1));
    assert.equal(newest?.deployment, second.name);
    assert.deepEqual(newest?.reused, [{ command: 0, argv: ['sh', 'install.sh'], from: first.name, outputs: ['node_modules'] }]);
    assert.equal(oldest?.reused, undefined, 'a run that reused nothing has no field');

    const human = await testContext(s.app.root);
    await HISTORY.run(human.ctx, [], {});
    const [line, older] = human.stdout().split('\n');
    assert.match(line!, new RegExp(`success [\\d.]+s  reused node_modules from ${first.name}  \\(by `));
    assert.doesNotMatch(older!, /reused/);
    const json = await testContext(s.app.root, { json: true });
    await HISTORY.run(json.ctx, [], {});
    assert.deepEqual(JSON.parse(json.stdout())[0].reused, newest?.reused);
  });

  test('the copy is the source tree as cp -a makes it: every entry, mode, time and link, and the directory\'s own mode and time, however many cp share it', async (t) => {
    // More top-level entries than cp processes, a dotfile, a name like an option, nested and
    // empty directories, an executable, a dangling link, and a directory mode and mtime of its own.
    const install = `echo ran >> "$MARKER"
mkdir -p node_modules/a/deep/er node_modules/empty node_modules/.bin
for n in b c d e f g h i j; do echo $n > node_modules/$n; done
echo dot > node_modules/.package-lock.json
echo opt > ./node_modules/--force
printf '#!/bin/sh\\n' > node_modules/a/deep/er/run && chmod 750 node_modules/a/deep/er/run
ln -s ../a/deep/er/run node_modules/.bin/run
ln -s nowhere node_modules/dangling
chmod 751 node_modules/a && touch -d @1600000000 node_modules/a/deep
chmod 705 node_modules && touch -d @1500000000 node_modules
`;
    const s = await scene(t, undefined, install);
    const first = await s.deploy(1, 'A');
    const second = await s.deploy(2, 'A');
    assert.equal(await s.runs(), 1);
    const describeTree = async (root: string) => {
      const out: string[] = [];
      const walk = async (rel: string) => {
        const path = join(root, rel);
        const st = await lstat(path);
        const what = st.isSymbolicLink() ? `link ${await readlink(path)}` : st.isFile() ? `file ${await readFile(path, 'utf8')}` : 'dir';
        out.push(`${rel} ${(st.mode & 0o7777).toString(8)} ${st.isSymbolicLink() ? '' : Math.floor(st.mtimeMs / 1000)} ${what}`);
        if (st.isDirectory()) for (const name of (await readdir(path)).sort()) await walk(join(rel, name));
      };
      await walk('node_modules');
      return out;
    };
    const [a, b] = [await describeTree(join(s.app.root, first.name)), await describeTree(join(s.app.root, second.name))];
    assert.ok(a.length > 16, a.join('\n'));
    assert.deepEqual(b, a);
    assert.match(a[0]!, /^node_modules 705 1500000000 dir$/);
  });

  test('a source whose outputs are gone, or are a link out of the deployment, is not used: the command runs, with one warning', async (t) => {
    const s = await scene(t);
    const first = await s.deploy(1, 'A');
    await rm(join(s.app.root, first.name, 'node_modules'), { recursive: true });
    const second = await s.deploy(2, 'A');
    assert.equal(await s.runs(), 2);
    assert.equal((second.out.match(/could not reuse node_modules/g) ?? []).length, 1, second.out);
    assert.match(second.out, /node_modules is absent there/);
    assert.equal(await readFile(join(s.app.root, second.name, 'node_modules', 'dep.txt'), 'utf8'), 'A\n');

    // Every source with the key now has node_modules as a link pointing outside.
    const outside = join(await tmpRoot(t), 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'dep.txt'), 'not from a build\n');
    for (const name of [first.name, second.name]) {
      await rm(join(s.app.root, name, 'node_modules'), { recursive: true, force: true });
      await symlink(outside, join(s.app.root, name, 'node_modules'));
    }
    const third = await s.deploy(3, 'A');
    assert.equal(await s.runs(), 3);
    assert.match(third.out, /node_modules is a symbolic link there/);
    const st = await lstat(join(s.app.root, third.name, 'node_modules'));
    assert.ok(st.isDirectory() && !st.isSymbolicLink());
    assert.equal(await readFile(join(s.app.root, third.name, 'node_modules', 'dep.txt'), 'utf8'), 'A\n');
  });

  test('a source whose output holds an absolute link into that deployment is not used: the copy would break once it is pruned', async (t) => {
    // As a build that links to $MFD_DEPLOYMENT_DIR makes: an absolute path into its own deployment.
    const s = await scene(t, undefined, `${INSTALL_SH}ln -s "$MFD_DEPLOYMENT_DIR/lock.txt" node_modules/abs-lock\nln -s /etc/hostname node_modules/elsewhere\n`);
    const first = await s.deploy(1, 'A');
    assert.equal(await s.runs(), 1);
    const second = await s.deploy(2, 'A');
    assert.equal(await s.runs(), 2, 'the install ran again');
    assert.match(second.out, new RegExp(`could not reuse node_modules .*${first.name}: node_modules holds node_modules/abs-lock -> ${join(s.app.root, first.name, 'lock.txt').replace(/[.]/g, '\\.')}, a link into that deployment itself`));
    assert.equal(await readlink(join(s.app.root, second.name, 'node_modules', 'abs-lock')), join(s.app.root, second.name, 'lock.txt'));
    // Links elsewhere (outside every deployment) and relative ones do not stop a reuse.
    await rm(join(s.app.root, second.name, 'node_modules', 'abs-lock'));
    const third = await s.deploy(3, 'A');
    assert.equal(await s.runs(), 2, 'reused from the second');
    assert.match(third.out, new RegExp(`node_modules reused from ${second.name}`));
    assert.equal(await readlink(join(s.app.root, third.name, 'node_modules', 'elsewhere')), '/etc/hostname');
  });

  test('an absolute link into the source deployment is found by its real path too, where the app root is reached through a link', async (t) => {
    // The app root is reached through a link (/srv -> /data/srv, say), as mfd.toml is given; a
    // build tool that makes links from its working directory (getcwd(), process.cwd(): the real
    // path) names the same deployment in other words than $MFD_DEPLOYMENT_DIR.
    const install = `${INSTALL_SH}ln -s "$(pwd -P)/lock.txt" node_modules/real-lock\n`;
    const s = await scene(t, undefined, install);
    const alias = join(await tmpRoot(t), 'srv');
    await symlink(s.app.root, alias);
    const deploy = async (n: number) => {
      await s.app.commitVersion(n, { extra: { 'install.sh': install, 'lock.txt': 'A\n' } });
      const r = await deployInProcess(alias, undefined, { env: { MARKER: s.marker } });
      return { name: await readlink(join(alias, 'active')), out: r.stdout + r.stderr };
    };
    const first = await deploy(1);
    const second = await deploy(2);
    assert.equal(await s.runs(), 2, `the install ran again:\n${second.out}`);
    assert.match(second.out, new RegExp(`could not reuse node_modules .*${first.name}: node_modules holds node_modules/real-lock -> ${join(s.app.root, first.name, 'lock.txt').replace(/[.]/g, '\\.')}, a link into that deployment itself`));
    assert.equal(await readlink(join(s.app.root, second.name, 'node_modules', 'real-lock')), join(s.app.root, second.name, 'lock.txt'));
  });

  test('where cp fails part-way, what it left is removed and fs.cp copies instead', async (t) => {
    const s = await scene(t);
    const first = await s.deploy(1, 'A');
    const bin = join(await tmpRoot(t), 'bin');
    await mkdir(bin);
    // A cp that writes part of its target directory (-t DIR), then fails (as BusyBox's does on --reflink).
    await writeFile(join(bin, 'cp'), '#!/bin/sh\nwhile [ "$1" != -t ]; do shift; done\necho half > "$2/junk"\nexit 1\n', { mode: 0o755 });
    const second = await s.deploy(2, 'A', { PATH: `${bin}:${process.env.PATH}` });
    assert.equal(await s.runs(), 1);
    assert.match(second.out, new RegExp(`reused from ${first.name}`));
    assert.deepEqual((await readdir(join(s.app.root, second.name, 'node_modules'))).sort(), ['.bin', 'dep.txt']);
    assert.equal(await readlink(join(s.app.root, second.name, 'node_modules', '.bin', 'tool')), '../dep.txt');
  });

  test('an environment variable named in env is part of the key', async (t) => {
    const s = await scene(t, 'command = 0\ninputs = ["lock.txt"]\noutputs = ["node_modules"]\nenv = ["NODE_ENV"]\n');
    await s.deploy(1, 'A', { NODE_ENV: 'production' });
    await s.deploy(2, 'A', { NODE_ENV: 'production' });
    assert.equal(await s.runs(), 1);
    const third = await s.deploy(3, 'A', { NODE_ENV: 'development' });
    assert.equal(await s.runs(), 2);
    assert.doesNotMatch(third.out, /skipped/);
  });

  test('a variable mfd gives the build (MFD_COMMIT) is keyed by the value the command sees', async (t) => {
    const install = `${INSTALL_SH}echo "$MFD_COMMIT" > node_modules/commit.txt\n`;
    const s = await scene(t, 'command = 0\ninputs = ["lock.txt"]\noutputs = ["node_modules"]\nenv = ["MFD_COMMIT"]\n', install);
    await s.deploy(1, 'A');
    const second = await s.deploy(2, 'A');
    assert.equal(await s.runs(), 2, 'another commit is another key');
    assert.doesNotMatch(second.out, /skipped/);
    const sha = second.name.split('_')[2];
    assert.equal(await readFile(join(s.app.root, second.name, 'node_modules', 'commit.txt'), 'utf8'), `${sha}\n`);
  });

  test('without [[build.cache]] every command runs and no record holds a key', async (t) => {
    const app = await appFixture(t);
    await app.commitVersion(1);
    await deployInProcess(app.root);
    await app.commitVersion(2);
    await deployInProcess(app.root);
    for (const record of (await readRecords(layoutOf(app.root, 1))).values()) assert.equal(record.cacheKeys, undefined);
  });
});

describe('[[build.cache]] config', () => {
  const base = `[repo]\nurl = "https://h/r"\n[build]\n${BUILD_COMMANDS.replace(']]', '], ["true"]]')}\n[[build.cache]]\n`;
  const problems = (text: string) => {
    try {
      parseConfig(text, { file: 'mfd.toml' });
    } catch (error) {
      assert.ok(error instanceof ConfigInvalidError);
      assert.equal(error.exitCode, 2);
      return new Map(error.issues.map((i) => [i.path, i.message]));
    }
    assert.fail('expected a config error');
  };

  test('the example in mfd.toml.example, switched on, is valid', async () => {
    const example = (await readFile(new URL('../../mfd.toml.example', import.meta.url), 'utf8'))
      .replace(/^# cache = \[\n#   (.*)\n# \]/m, 'cache = [\n  $1\n]');
    assert.deepEqual(parseConfig(example, { file: 'mfd.toml' }).config.build.cache, [
      { command: 0, inputs: ['package.json', 'package-lock.json'], outputs: ['node_modules'], env: ['NODE_ENV'] },
    ]);
  });

  test('parses entries, env defaulting to none', () => {
    const c = parseConfig(`${base}command = 1\ninputs = ["package-lock.json"]\noutputs = ["node_modules", "dist/out"]\n`, { file: 'mfd.toml' }).config;
    assert.deepEqual(c.build.cache, [{ command: 1, inputs: ['package-lock.json'], outputs: ['node_modules', 'dist/out'], env: [] }]);
  });

  test('a path that is absolute or leaves the deployment is an error naming its key', () => {
    const p = problems(`${base}command = 0\ninputs = ["/etc/passwd", "ok", "../up"]\noutputs = ["a/../../b", "./x", "y//z"]\n`);
    assert.match(p.get('build.cache.0.inputs.0')!, /relative to the deployment.*"\/etc\/passwd".*absolute/);
    assert.equal(p.has('build.cache.0.inputs.1'), false);
    assert.match(p.get('build.cache.0.inputs.2')!, /"\.\." segment/);
    assert.match(p.get('build.cache.0.outputs.0')!, /"\.\." segment/);
    assert.match(p.get('build.cache.0.outputs.1')!, /"\." segment/);
    assert.match(p.get('build.cache.0.outputs.2')!, /empty/);
  });

  test('a command index out of range, a repeated one, no outputs, an unknown key', () => {
    const p = problems(`${base}command = 2\ninputs = []\noutputs = ["a"]\n[[build.cache]]\ncommand = 0\ninputs = []\noutputs = []\n[[build.cache]]\ncommand = 0\ninputs = []\noutputs = ["b"]\nimputs = []\n`);
    assert.match(p.get('build.cache.0.command')!, /index into build\.commands \(0 to 1\), got 2/);
    assert.ok(p.has('build.cache.1.outputs'));
    assert.match(p.get('build.cache.2.command')!, /already has/);
    assert.match(p.get('build.cache.2.imputs')!, /unknown key/);
  });

  test('an entry when build.commands is empty or has one command says so, never "(0 to -1)"', () => {
    const config = (commands: string) => `[repo]\nurl = "https://h/r"\n[build]\ncommands = ${commands}\n[[build.cache]]\ncommand = 1\ninputs = []\noutputs = ["a"]\n`;
    assert.equal(problems(config('[]')).get('build.cache.0.command'), 'expected an index into build.commands, which is empty: there is no command to cache, got 1');
    assert.equal(problems(config('[["true"]]')).get('build.cache.0.command'), 'expected an index into build.commands (0, its only command), got 1');
  });
});
