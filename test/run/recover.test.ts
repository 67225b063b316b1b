// run/recover.ts in-process: what a killed deploy leaves (a temporary link beside active, a
// build still marked `building` whose deploy is gone) is shown by ls without being touched, and
// settled by the next deploy. Killing a real deploy (and a build left running) stays e2e.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { LIST } from '../../src/commands/list.ts';
import { deploy } from '../../src/run/deploy.ts';
import { processStart } from '../../src/sys/process.ts';
import { writeRecord } from '../../src/state/record.ts';
import { tempPathOf, tempWriterOf } from '../../src/state/atomicfile.ts';
import { startForge } from '../helpers/forge-api.ts';
import { appendHistory } from '../../src/state/history.ts';
import { layoutOf } from '../../src/state/layout.ts';

const exists = (p: string) => access(p).then(() => true, () => false);

describe('recovery (in-process)', () => {
  test('a build whose deploy is gone is shown interrupted by ls, then marked failed and removed by the next deploy', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const two = await app.commitVersion(2);
    await deploy((await testContext(app.root)).ctx, one);

    // The deploy that was building `two` is gone: a real process that has exited.
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const start = await processStart(gone.pid!);
    await new Promise((r) => gone.on('exit', r));
    const name = `mfd_${Math.floor(Date.now() / 1000) + 1}_${two}`;
    await mkdir(join(app.root, name));
    const { ctx } = await testContext(app.root);
    const at = new Date().toISOString();
    await writeRecord(ctx.layout, {
      name, sha: two, ref: 'main', fingerprint: 'x', state: 'building', createdAt: at, updatedAt: at,
      pid: gone.pid!, pidStart: start!, buildPgid: gone.pid!, buildPgidStart: start!,
    });
    // And an activation it was killed in the middle of.
    await symlink(name, join(app.root, '.active.tmp-4242'));

    const ls = await testContext(app.root);
    await LIST.run(ls.ctx, [], {});
    assert.equal(ls.stdout(), `${two} (interrupted)\n${one} (active)\n`);
    assert.match(ls.stderr(), /warning: a build was interrupted/);
    assert.ok(await exists(join(app.root, name)), 'ls repairs nothing');

    const next = await testContext(app.root);
    const result = await deploy(next.ctx, one);
    assert.equal(result.reused, true);
    assert.match(next.stderr(), /warning: removed \.active\.tmp-4242, left by an interrupted activation/);
    assert.match(next.stderr(), new RegExp(`warning: marked ${name} failed and removed it: the deploy building it was interrupted`));
    // Its process group is gone too: nothing to signal, and nothing said about signalling it.
    assert.doesNotMatch(next.stderr(), /process group/);
    assert.equal(await exists(join(app.root, name)), false);
    assert.ok(!(await readdir(app.root)).some((n) => n.startsWith('.active.tmp-')));
    const record = JSON.parse(await readFile(join(app.root, '.mfd', 'deployments', `${name}.json`), 'utf8'));
    assert.deepEqual([record.state, record.error], ['failed', 'interrupted: the deploy that was building it is gone']);
  });

  test('what a prune killed half-way left renamed aside is removed by the next deploy, and nothing else of that prefix', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    await deploy((await testContext(app.root)).ctx, one);
    // A kill -9 during the rm -rf after the rename: part of the tree is left, under the aside name.
    const left = join(app.root, `.mfd-prune-mfd_1700000000_${one}`);
    await mkdir(join(left, 'node_modules', 'a'), { recursive: true });
    await writeFile(join(left, 'node_modules', 'a', 'index.js'), 'x');
    // Not a name prune makes: the user's, left alone.
    await mkdir(join(app.root, '.mfd-prune-notes'));

    const next = await testContext(app.root);
    await deploy(next.ctx, one);
    assert.match(next.stderr(), /warning: removed \.mfd-prune-mfd_1700000000_[0-9a-f]{40}, left by an interrupted prune/);
    assert.equal(await exists(left), false);
    assert.ok(await exists(join(app.root, '.mfd-prune-notes')));
  });

  test('temp files of atomic writes whose writer was killed are removed by the next deploy, and nothing a live writer or a user could own', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    await deploy((await testContext(app.root)).ctx, one);
    const state = join(app.root, '.mfd');
    const records = join(state, 'deployments');
    // A writer killed between its write and its rename: a real process that has exited.
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((r) => gone.on('exit', r));
    const dead = gone.pid!;
    // Made as writeFileAtomic makes them, so the names are its own.
    const leftRecord = tempPathOf(join(records, `mfd_1700000000_${one}.json`), dead);
    const leftPause = tempPathOf(join(state, 'pause.json'), dead);
    await writeFile(leftRecord, '{"half');
    await writeFile(leftPause, '');
    assert.equal(tempWriterOf(basename(leftPause)), dead);
    // A writer still alive (this test's parent process), mid-write: its file is kept.
    const live = tempPathOf(join(state, 'quarantine.json'), process.ppid);
    await writeFile(live, '{}');
    // Of a dead writer's name, but a link (to a file of the user's) and a directory: never removed.
    const outside = `${app.root}-outside`;
    await writeFile(outside, 'keep');
    t.after(() => rm(outside, { force: true }));
    const link = tempPathOf(join(state, 'history.jsonl'), dead);
    await symlink(outside, link);
    const dir = tempPathOf(join(records, 'x.json'), dead);
    await mkdir(dir);
    // Names that are not exactly ours: no pid, a short random part, another folder (the root).
    const oldStyle = join(state, '.pause.json.tmp-0123456789ab');
    const short = join(state, `.pause.json.tmp-${dead}-0123`);
    const inRoot = tempPathOf(join(app.root, 'notes.txt'), dead);
    for (const p of [oldStyle, short, inRoot]) await writeFile(p, 'x');
    // The cache's `shallow` file is written under the cache lock, with no pid: the next fetch,
    // holding that lock, removes what a killed write of it left (a regular file of that name only).
    const repo = join(state, 'repo.git');
    const leftShallow = tempPathOf(join(repo, 'shallow'));
    await writeFile(leftShallow, `${one}\n`);
    const shallowLink = tempPathOf(join(repo, 'shallow'));
    await symlink(outside, shallowLink);
    const two = await app.commitVersion(2);

    const next = await testContext(app.root);
    await deploy(next.ctx, two);
    assert.equal(await exists(leftShallow), false);
    assert.equal(await readlink(shallowLink), outside);
    assert.equal(await exists(leftRecord), false);
    assert.equal(await exists(leftPause), false);
    assert.match(next.stderr(), /warning: removed \.mfd\/deployments\/\.mfd_1700000000_[0-9a-f]{40}\.json\.tmp-\d+-[0-9a-f]{12}, left by an interrupted write/);
    assert.match(next.stderr(), /warning: removed \.mfd\/\.pause\.json\.tmp-\d+-[0-9a-f]{12}, left by an interrupted write/);
    for (const p of [live, link, dir, oldStyle, short, inRoot]) assert.ok(await exists(p), `${p} is kept`);
    assert.equal(await readlink(link), outside, 'the link is kept');
    assert.equal(await readFile(outside, 'utf8'), 'keep');
    assert.equal(await readFile(live, 'utf8'), '{}');
  });

  test('a commit\'s marker a killed run had set aside is put back and closed by the next deploy, unless a newer one took its name', async (t) => {
    const TOKEN = 'tok-aside-s3cret';
    const forge = await startForge({ provider: 'github', token: TOKEN });
    t.after(() => forge.close());
    const app = await appFixture(t, {
      config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = [["sh", "build.sh"]]\n[status]\nprovider = "github"\napi_url = "${forge.apiUrl}"\nrepository = "me/app"\n`,
    });
    const one = await app.commitVersion(1);
    const status = join(app.root, '.mfd', 'status');
    await mkdir(status, { recursive: true });
    // The runs that wrote these markers, and the one that set them aside, were killed: real processes that have exited.
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((r) => gone.on('exit', r));
    const dead = gone.pid!;
    const marker = (sha: string, fields: Record<string, unknown>) => `${JSON.stringify({ sha, pid: dead, ...fields })}\n`;
    const asideOf = (sha: string) => tempPathOf(join(status, `${sha}.json`), dead);
    const at = new Date(Date.now() - 60_000).toISOString();
    const later = new Date(Date.now() - 30_000).toISOString();
    // A: run-1's pending, set aside by a removeMarker of another run killed before it put it back.
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => x.repeat(40)) as [string, string, string, string];
    await writeFile(asideOf(a), marker(a, { runId: 'run-1', at }));
    // B: a writeOwedMarker killed before its link: run-3's pending set aside, and the final state it owes beside it.
    await writeFile(asideOf(b), marker(b, { runId: 'run-3', at }));
    await writeFile(asideOf(b), marker(b, { runId: 'run-3', at: later, since: later, final: { state: 'success', description: 'Deployed' } }));
    // C: set aside while a newer marker took the real name: that one wins, the old one goes.
    await writeFile(asideOf(c), marker(c, { runId: 'run-4', at }));
    await writeFile(join(status, `${c}.json`), marker(c, { runId: 'run-5', at: later, since: later, final: { state: 'failure', description: 'Build failed' } }));
    // D: not a marker (a write cut short): removed, as any dead writer's temp file.
    const torn = asideOf(d);
    await writeFile(torn, '{"half');
    // E: a run that reached its end (its history line) set its own pending aside to remove it, its
    // success posted, and was killed: put back, it would be closed with error over that success.
    const e = 'e'.repeat(40);
    const ended = 'run-6';
    await writeFile(asideOf(e), marker(e, { runId: ended, at }));
    await appendHistory(layoutOf(app.root, dead), {
      runId: ended, command: 'deploy', user: 'me', ref: 'main', sha: e, deployment: null, start: at, end: at,
      steps: [], outcome: 'success', error: null, log: `${ended}.log`,
    });

    const next = await testContext(app.root, { env: { MFD_STATUS_TOKEN: TOKEN } });
    await deploy(next.ctx, one);
    assert.match(next.stderr(), new RegExp(`warning: restored \\.mfd/status/${a}\\.json, set aside by an interrupted run`));
    assert.match(next.stderr(), new RegExp(`warning: restored \\.mfd/status/${b}\\.json, set aside by an interrupted run`));
    assert.doesNotMatch(next.stderr(), new RegExp(`restored \\.mfd/status/(${c}|${d}|${e})`));
    // Of the earlier runs' commits (this deploy posts its own pending and success for `one` too).
    const posts = forge.accepted().filter((p) => [a, b, c, d, e].includes(p.sha)).map((p) => `${p.sha[0]} ${p.state} ${p.description}`);
    assert.deepEqual(posts.sort(), [
      'a error Interrupted: run run-1 ended before it could report',
      'b success Deployed',
      'c failure Build failed',
    ]);
    assert.equal(await exists(torn), false);
    assert.deepEqual((await readdir(status)).filter((n) => n !== `${one}.json`), [], 'every owed state posted, nothing left aside');
  });
});
