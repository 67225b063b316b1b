// run/deploy.ts driven in-process: a real Context (test/helpers/context.ts) for a real app root
// and git server, no CLI process. test/e2e/deploy.test.ts keeps what only the process shows.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture, BUILD_COMMANDS } from '../helpers/app.ts';
import { runGit } from '../helpers/repo.ts';
import { testContext } from '../helpers/context.ts';
import { LIST } from '../../src/commands/list.ts';
import { deploy } from '../../src/run/deploy.ts';
import { rollback } from '../../src/run/rollback.ts';
import { BuildFailedError, DeploymentNotFoundError, RefNotFoundError, RollbackUnavailableError } from '../../src/errors/index.ts';

const deployments = async (root: string) => (await readdir(root)).filter((n) => n.startsWith('mfd_')).sort();
const activeTarget = (root: string) => readlink(join(root, 'active'));

/** What `mfd ls` prints, by the real command on a Context of its own. */
async function ls(root: string): Promise<string> {
  const run = await testContext(root);
  await LIST.run(run.ctx, [], {});
  return run.stdout();
}

describe('deploy (in-process)', () => {
  test('a second deploy fetches incrementally, rollback follows history, and a second rollback goes further back', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    await deploy((await testContext(app.root)).ctx, one);
    const firstBytes = app.server.bytesSent;
    const two = await app.commitVersion(2);
    app.server.resetCounters();
    const second = await deploy((await testContext(app.root)).ctx, 'main');
    assert.equal(second.sha, two);
    assert.equal(second.reused, false);
    assert.ok(app.server.bytesSent < firstBytes + 2000, `incremental fetch sent ${app.server.bytesSent} bytes`);
    assert.equal(await ls(app.root), `${two} (active)\n${one}\n`);

    const back = await rollback((await testContext(app.root)).ctx, undefined);
    assert.equal(back.sha, one);
    assert.match(await activeTarget(app.root), new RegExp(one));
    assert.equal(await ls(app.root), `${two} (rolled-back)\n${one} (active)\n`);

    const again = await rollback((await testContext(app.root)).ctx, undefined).catch((e: unknown) => e);
    assert.ok(again instanceof RollbackUnavailableError, String(again));
    assert.equal(again.exitCode, 8);
    assert.match(again.message, /^nothing to roll back to/);
    assert.ok(again.hint);
    assert.match(await activeTarget(app.root), new RegExp(one));
    const named = await rollback((await testContext(app.root)).ctx, two.slice(0, 7)).catch((e: unknown) => e);
    assert.ok(named instanceof DeploymentNotFoundError, 'a rolled-back deployment is not a rollback target');
    assert.match(named.message, /is rolled-back, not good/);
  });

  test('unchanged files come from the active deployment, but only when their bytes are still what git has', async (t) => {
    const app = await appFixture(t);
    await app.commitVersion(1, { extra: { 'static/a.txt': 'a\n', 'static/b.txt': 'b\n' } });
    await deploy((await testContext(app.root)).ctx, undefined);
    // The running app (or its build) rewrote a tracked file in its own directory.
    await writeFile(join(app.root, 'active', 'static', 'a.txt'), 'A\n');
    await app.commitVersion(2);
    const run = await testContext(app.root);
    await deploy(run.ctx, undefined);
    // build.js, build.sh and static/b.txt are unchanged and intact; version.txt changed; static/a.txt was edited.
    assert.match(run.stderr(), /checkout +mfd_\S+ \(3 of 5 files unchanged, taken from mfd_\d+_[0-9a-f]{40}\)/);
    assert.equal(await readFile(join(app.root, 'active', 'static', 'a.txt'), 'utf8'), 'a\n');
    assert.equal(await readFile(join(app.root, 'active', 'static', 'b.txt'), 'utf8'), 'b\n');
    assert.equal(await readFile(join(app.root, 'active', 'version.txt'), 'utf8'), '2\n');
  });

  test('a deploy asks the server each thing once: one advertisement and one pack, and by branch one listing with them', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    app.server.resetCounters();
    await deploy((await testContext(app.root)).ctx, one);
    // The advertisement was sent ahead of isomorphic-git (git/prefetch.ts) and taken by its fetch.
    assert.deepEqual(app.server.requests.map((r) => r.command), ['advertise', 'fetch']);
    await app.commitVersion(2);
    app.server.resetCounters();
    await deploy((await testContext(app.root)).ctx, undefined);
    // The listing's two requests and the fetch's advertisement go together (git/prefetch.ts), in any order.
    const asked = app.server.requests.map((r) => r.command);
    assert.deepEqual([...asked.slice(0, 3).sort(), ...asked.slice(3)], ['advertise', 'advertise', 'ls-refs', 'fetch']);
    // A deploy of a name that reuses a deployment: the advertisement sent with the listing is cut, nothing fetched.
    app.server.resetCounters();
    const again = await deploy((await testContext(app.root)).ctx, undefined);
    assert.equal(again.reused, true);
    assert.ok(!app.server.requests.some((r) => r.command === 'fetch'), 'nothing fetched');
  });

  test('a remote whose HEAD names a branch never pushed: a configured branch deploys; without one, the error says there is no default branch', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    // As `git init --bare` leaves a server repository when only main was pushed: HEAD -> master.
    await runGit(['symbolic-ref', 'HEAD', 'refs/heads/master'], { cwd: app.repo.bare });
    await assert.rejects(deploy((await testContext(app.root)).ctx, undefined), (e: unknown) => e instanceof RefNotFoundError && /no default branch/.test(e.message) && /\[repo\] branch/.test(e.hint ?? ''));
    await app.writeConfig(`[repo]\nurl = "${app.url}"\nbranch = "main"\n[build]\n${BUILD_COMMANDS}\n`);
    const result = await deploy((await testContext(app.root)).ctx, undefined);
    assert.equal(result.sha, one);
    assert.equal(await readFile(join(app.root, 'active', 'version.txt'), 'utf8'), '1\n');
    // And by sha, the advertisement of which has no HEAD at all.
    const two = await app.commitVersion(2);
    assert.equal((await deploy((await testContext(app.root)).ctx, two)).sha, two);
  });

  test('redeploying a sha with a good deployment reuses it without any network traffic', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const two = await app.commitVersion(2);
    await deploy((await testContext(app.root)).ctx, one);
    await deploy((await testContext(app.root)).ctx, two);
    const before = await deployments(app.root);
    app.server.resetCounters();
    const run = await testContext(app.root);
    const again = await deploy(run.ctx, one);
    assert.equal(again.reused, true);
    assert.match(run.stderr(), /reusing/);
    assert.equal(app.server.requests.length, 0);
    assert.deepEqual(await deployments(app.root), before);
    assert.match(await activeTarget(app.root), new RegExp(one));
  });

  test('a failing build leaves active untouched, removes its directory, is recorded failed, and is rebuilt on the next try', async (t) => {
    const app = await appFixture(t);
    const good = await app.commitVersion(1);
    await deploy((await testContext(app.root)).ctx, undefined);
    const activeBefore = await activeTarget(app.root);
    const bad = await app.commitVersion(2, { fail: true });
    for (const attempt of [1, 2]) {
      const run = await testContext(app.root);
      const err = await deploy(run.ctx, undefined).catch((e: unknown) => e);
      assert.ok(err instanceof BuildFailedError, String(err));
      assert.equal(err.exitCode, 5);
      // Rebuilt, not reused: the second attempt runs the build again.
      assert.match(run.stderr(), /compiling\.\.\./, `attempt ${attempt}`);
      assert.equal(await activeTarget(app.root), activeBefore);
      assert.deepEqual(await deployments(app.root), [activeBefore]);
    }
    assert.equal(await ls(app.root), `${good} (active)\n`);
    const records = join(app.root, '.mfd', 'deployments');
    const failed = (await readdir(records)).filter((f) => f.includes(bad));
    assert.equal(failed.length, 2, 'one failed record per attempt');
    for (const f of failed) assert.equal(JSON.parse(await readFile(join(records, f), 'utf8')).state, 'failed');
  });

  test('prune keeps the three newest good deployments', async (t) => {
    const app = await appFixture(t);
    const shas: string[] = [];
    for (let i = 1; i <= 5; i++) {
      shas.push(await app.commitVersion(i));
      await deploy((await testContext(app.root)).ctx, shas.at(-1)!);
    }
    const left = await deployments(app.root);
    assert.equal(left.length, 3);
    for (const sha of shas.slice(2)) assert.ok(left.some((d) => d.endsWith(sha)), sha);
  });

  test('a rollback away from a deployment whose record cannot be trusted leaves that record alone, so no later prune removes it', async (t) => {
    const app = await appFixture(t);
    const shas: string[] = [];
    for (let i = 1; i <= 2; i++) {
      shas.push(await app.commitVersion(i));
      await deploy((await testContext(app.root)).ctx, shas.at(-1)!);
    }
    const left = await activeTarget(app.root);
    const record = join(app.root, '.mfd', 'deployments', `${left}.json`);
    await writeFile(record, '{"name": "not mfd\'s"');
    const back = await testContext(app.root);
    await rollback(back.ctx, undefined);
    assert.match(back.stderr(), new RegExp(`mfd will not touch ${left}`));
    assert.equal(await readFile(record, 'utf8'), '{"name": "not mfd\'s"', 'the record is left as it was');
    // Two more deploys: the untrusted directory is neither active nor previous, and stays.
    for (let i = 3; i <= 4; i++) {
      shas.push(await app.commitVersion(i));
      await deploy((await testContext(app.root)).ctx, shas.at(-1)!);
    }
    assert.ok((await deployments(app.root)).includes(left));
  });

  test('Go mfd deployments are adopted: listed, reused by a redeploy, and a rollback target', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const two = await app.commitVersion(2);
    await mkdir(join(app.root, `mfd_1000_${one}`));
    await writeFile(join(app.root, `mfd_1000_${one}`, 'go-built'), 'x');
    await symlink(`mfd_1000_${one}`, join(app.root, 'active'));
    assert.equal(await ls(app.root), `${one} (active)\n`);
    await deploy((await testContext(app.root)).ctx, two);
    await rollback((await testContext(app.root)).ctx, undefined);
    assert.equal(await activeTarget(app.root), `mfd_1000_${one}`);
    app.server.resetCounters();
    assert.equal((await deploy((await testContext(app.root)).ctx, one)).reused, true);
    assert.equal(app.server.requests.length, 0);
  });

  test('build commands get the Context\'s environment, never the test hook or the token', async (t) => {
    const app = await appFixture(t, {
      config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${JSON.stringify(process.execPath)}, "-e", "require('fs').writeFileSync('env.json', JSON.stringify(process.env))"]]\n`,
    });
    await app.commitVersion(1);
    const run = await testContext(app.root, { env: { MFD_TEST_PAUSE_AT: 'no-such-step', MFD_REPO_TOKEN: 'tok_secret', MFD_STATUS_TOKEN: 'tok_status', MFD_WEBHOOK_SECRET: 'hook_secret', T_SEEN: 'yes' } });
    assert.equal(run.ctx.testHook.pauseAt, 'no-such-step');
    assert.match(run.stderr(), /warning: MFD_TEST_PAUSE_AT is set: this deploy will pause at no-such-step and wait forever; unset it on a server/);
    await deploy(run.ctx, undefined);
    const env = JSON.parse(await readFile(join(app.root, 'active', 'env.json'), 'utf8'));
    assert.equal(env.T_SEEN, 'yes');
    assert.equal(env.MFD_TEST_PAUSE_AT, undefined);
    assert.equal(env.MFD_REPO_TOKEN, undefined);
    // A manual deploy from a shell that exported the other secrets must not hand them on either.
    assert.equal(env.MFD_STATUS_TOKEN, undefined);
    assert.equal(env.MFD_WEBHOOK_SECRET, undefined);
    assert.deepEqual(Object.values(env).filter((v) => ['tok_secret', 'tok_status', 'hook_secret'].includes(v as string)), []);
    assert.match(env.MFD_COMMIT, /^[0-9a-f]{40}$/);
  });

  // A redeploy with changed build commands is a new build of the same sha. Within the same second
  // its name (mfd_<unix>_<sha>) used to equal the active one's, and mfd removed that directory
  // before building. The Context's clock is held in the active deployment's second, and the
  // names of the seconds after it are taken too, by built deployments of that sha.
  test('a new build never removes or reuses an existing directory of that name, the active one least of all', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    await deploy((await testContext(app.root)).ctx, sha);
    const first = await activeTarget(app.root);
    const start = Number(/^mfd_(\d+)_/.exec(first)![1]);
    const now = () => start * 1000 + 500;
    const record = JSON.parse(await readFile(join(app.root, '.mfd', 'deployments', `${first}.json`), 'utf8'));
    const occupied = [first];
    for (let s = start + 1; s <= start + 5; s++) {
      const name = `mfd_${s}_${sha}`;
      await mkdir(join(app.root, name));
      await writeFile(join(app.root, name, 'build-info.json'), JSON.stringify({ commit: sha, copy: s }));
      await writeFile(join(app.root, '.mfd', 'deployments', `${name}.json`), JSON.stringify({ ...record, name, createdAt: new Date(s * 1000).toISOString() }));
      occupied.push(name);
    }
    await writeFile(join(app.root, first, 'app-state.txt'), 'written by the running app\n');
    const untouched = async () => {
      for (const name of occupied) {
        assert.ok(await readFile(join(app.root, name, 'build-info.json'), 'utf8'), `${name} is intact`);
        const rec = JSON.parse(await readFile(join(app.root, '.mfd', 'deployments', `${name}.json`), 'utf8'));
        assert.deepEqual([rec.name, rec.state], [name, 'built'], `${name}'s record is its own`);
      }
      assert.equal(await readFile(join(app.root, first, 'app-state.txt'), 'utf8'), 'written by the running app\n');
    };

    // Changed build commands (so nothing is reused) that fail: active and every directory stay.
    const node = JSON.stringify(process.execPath);
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = [[${node}, "-e", "process.exit(3)"]]\n`);
    const failed = await deploy((await testContext(app.root, { now })).ctx, sha).catch((e: unknown) => e);
    assert.ok(failed instanceof BuildFailedError, String(failed));
    assert.match(failed.hint!, /active is untouched/);
    assert.equal(await activeTarget(app.root), first);
    await untouched();
    const records = await readdir(join(app.root, '.mfd', 'deployments'));
    const failedName = records.map((f) => f.replace(/\.json$/, '')).find((n) => !occupied.includes(n));
    assert.ok(failedName, 'the failed build has a record of its own name');
    assert.match(failedName, new RegExp(`^mfd_\\d+_${sha}$`));
    const failedRecord = JSON.parse(await readFile(join(app.root, '.mfd', 'deployments', `${failedName}.json`), 'utf8'));
    assert.equal(failedRecord.state, 'failed');
    assert.deepEqual(await deployments(app.root), [...occupied].sort(), 'its directory is gone');

    // Changed commands that succeed: a new name, built and active; the one it replaced stays.
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = [[${node}, "build.js"], [${node}, "-e", ""]]\n`);
    await deploy((await testContext(app.root, { now })).ctx, sha);
    const next = await activeTarget(app.root);
    assert.ok(!occupied.includes(next) && next !== failedName, `${next} is a new name`);
    assert.equal(JSON.parse(await readFile(join(app.root, 'active', 'build-info.json'), 'utf8')).commit, sha);
    assert.equal(JSON.parse(await readFile(join(app.root, '.mfd', 'deployments', `${next}.json`), 'utf8')).name, next);
  });
});
