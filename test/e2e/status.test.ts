import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { mfd } from '../helpers/cli.ts';
import { startForge, type Provider } from '../helpers/forge-api.ts';

const TOKEN = 'status-token-0123456789';
const node = JSON.stringify(process.execPath);
const env = { MFD_STATUS_TOKEN: TOKEN, HOSTNAME: 'web1', USER: 'alice' };

async function scene(t: TestContext, provider: Provider = 'github', status = '') {
  const forge = await startForge({ provider, token: TOKEN });
  t.after(() => forge.close());
  const app = await appFixture(t, {
    config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "build.js"]]\n[status]\nprovider = "${provider}"\napi_url = "${forge.apiUrl}"\nrepository = "me/app"\ntarget_url_base = "https://mfd.example.com/"\n${status}`,
  });
  return { forge, app };
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await files(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

async function lastLog(root: string): Promise<string> {
  const logs = (await readdir(join(root, '.mfd', 'logs'))).sort();
  return readFile(join(root, '.mfd', 'logs', logs.at(-1)!), 'utf8');
}

describe('commit statuses (e2e)', () => {
  test('a deploy posts pending once it knows the sha, then success, linked to its run; the token is nowhere on disk', async (t) => {
    const { forge, app } = await scene(t);
    const sha = await app.commitVersion(1);
    const r = await mfd(['deploy'], { cwd: app.root, env });
    assert.equal(r.code, 0, r.stderr);
    const posts = forge.accepted();
    assert.deepEqual(posts.map((p) => [p.sha, p.state, p.context]), [[sha, 'pending', 'mfd/app'], [sha, 'success', 'mfd/app']]);
    assert.equal(posts[0]!.description, `Deploying ${sha.slice(0, 7)} to web1`);
    assert.match(posts[1]!.description, /^Deployed in \d+s, not checked/);
    const history = JSON.parse((await readFile(join(app.root, '.mfd', 'history.jsonl'), 'utf8')).trim()) as { runId: string };
    assert.equal(posts[1]!.targetUrl, `https://mfd.example.com/runs/${history.runId}`);
    for (const file of await files(join(app.root, '.mfd'))) {
      if (file.includes('repo.git')) continue;
      assert.doesNotMatch(await readFile(file, 'utf8'), new RegExp(TOKEN), file);
    }
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(TOKEN));
  });

  test('a link base holding user:password@ is a config error, exit 2: it would be posted to the forge with every status and handed to notify', async (t) => {
    const forge = await startForge({ provider: 'github', token: TOKEN });
    t.after(() => forge.close());
    const app = await appFixture(t);
    await app.commitVersion(1);
    const tables = [
      `[status]\nprovider = "github"\napi_url = "${forge.apiUrl}"\nrepository = "me/app"\ntarget_url_base = "https://admin:pagePW-s3cret@mfd.example.com"\n`,
      `[status]\nprovider = "github"\napi_url = "${forge.apiUrl}"\nrepository = "me/app"\n[serve]\npublic_url = "https://admin:pagePW-s3cret@mfd.example.com/"\n`,
    ];
    for (const table of tables) {
      await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = []\n${table}`);
      const r = await mfd(['deploy', '--ci'], { cwd: app.root, env });
      assert.deepEqual(forge.accepted().map((p) => p.targetUrl).filter((u) => /s3cret/.test(u ?? '')), [], 'no link with the password reached the forge');
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /^error: .*mfd\.toml: line \d+: (status\.target_url_base|serve\.public_url): holds credentials \(a user name or password before the host\)/m);
      assert.doesNotMatch(r.stdout + r.stderr, /pagePW-s3cret/);
    }
  });

  test('a failed build is failure with its reason; a rollback marks the sha it left failure and the one it went to success (gitlab)', async (t) => {
    const { forge, app } = await scene(t, 'gitlab');
    const v1 = await app.commitVersion(1);
    assert.equal((await mfd(['deploy'], { cwd: app.root, env })).code, 0);
    const broken = await app.commitVersion(2, { fail: true });
    assert.equal((await mfd(['deploy'], { cwd: app.root, env })).code, 5);
    const v3 = await app.commitVersion(3);
    assert.equal((await mfd(['deploy'], { cwd: app.root, env })).code, 0);
    const r = await mfd(['rollback'], { cwd: app.root, env });
    assert.equal(r.code, 0, r.stderr);
    const posts = forge.accepted().map((p) => [p.sha, p.state, p.description] as const);
    assert.deepEqual(posts.slice(2, 4).map(([s, st]) => [s, st]), [[broken, 'running'], [broken, 'failed']]);
    assert.match(posts[3]![2], /^Build command \[.*\] failed with exit status 3/);
    assert.ok(posts[3]![2].length <= 140);
    const rollback = posts.slice(6);
    assert.deepEqual(rollback.map(([s, st]) => [s, st]).sort(), [[v1, 'running'], [v1, 'success'], [v3, 'failed']].sort());
    assert.deepEqual(rollback.filter(([s]) => s === v1).map(([, st]) => st), ['running', 'success'], 'in order');
    assert.equal(rollback.find(([s]) => s === v3)![2], 'Rolled back by alice');
  });

  test('a forge that refuses the token changes neither outcome nor exit code: an error line in the log, shown by mfd status, sent again by the next run', async (t) => {
    const { forge, app } = await scene(t, 'gitea');
    const sha = await app.commitVersion(1);
    const r = await mfd(['deploy'], { cwd: app.root, env: { ...env, MFD_STATUS_TOKEN: 'wrong' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(forge.requests.length, 2, 'a 401 is not retried');
    assert.match(r.stderr, /warning: commit status success for [0-9a-f]{7} not posted to gitea: 127\.0\.0\.1:\d+ answered HTTP 401: Bad credentials/);
    assert.match(await lastLog(app.root), /^error: commit status success for [0-9a-f]{7} not posted to gitea: .*HTTP 401/m);
    const status = await mfd(['status'], { cwd: app.root, env });
    assert.match(status.stdout, new RegExp(`^status: +success for ${sha.slice(0, 12)} not posted \\(run .*HTTP 401.*\\); the next deploy or rollback sends it again$`, 'm'));

    const again = await mfd(['deploy'], { cwd: app.root, env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(forge.accepted().map((p) => [p.sha, p.state]), [[sha, 'success'], [sha, 'pending'], [sha, 'success']]);
    assert.doesNotMatch((await mfd(['status'], { cwd: app.root, env })).stdout, /^status:/m);
  });

  test('a fetch that fails is error, its description without the URL\'s credentials (a full sha is known before any resolve)', async (t) => {
    const forge = await startForge({ provider: 'github', token: TOKEN });
    t.after(() => forge.close());
    const { freePort } = await import('../helpers/http.ts');
    const port = await freePort();
    const app = await appFixture(t, {
      config: () => `[repo]\nurl = "http://deploy:hunter2@127.0.0.1:${port}/app.git"\ntimeout = "1s"\n[build]\ncommands = []\n[status]\nprovider = "github"\napi_url = "${forge.apiUrl}"\nrepository = "me/app"\n`,
    });
    const sha = 'd'.repeat(40);
    const r = await mfd(['deploy', sha], { cwd: app.root, env });
    assert.equal(r.code, 4, r.stderr);
    const posts = forge.accepted();
    assert.deepEqual(posts.map((p) => [p.sha, p.state]), [[sha, 'pending'], [sha, 'error']]);
    assert.match(posts[1]!.description, /^Cannot reach http:\/\/(\*\*\*@)?127\.0\.0\.1:\d+\/app\.git: connection refused/);
    assert.ok(forge.requests.every((q) => !q.raw.includes('hunter2')));
  });

  test('a forge that hangs delays the end by at most [status] timeout, and the run still succeeds', async (t) => {
    const { forge, app } = await scene(t, 'github', 'timeout = "1s"\n');
    forge.fail(...Array.from({ length: 20 }, () => ({ hang: true as const })));
    await app.commitVersion(1);
    const r = await mfd(['deploy'], { cwd: app.root, env });
    assert.equal(r.code, 0, r.stderr);
    const log = await lastLog(app.root);
    assert.match(log, /^error: commit status pending for [0-9a-f]{7} not posted to github: (gave up: )?no answer from 127\.0\.0\.1:\d+ in time/m);
    assert.match(log, /^error: commit status success for [0-9a-f]{7} not posted to github: gave up: earlier posts took all of \[status\] timeout/m);
  });
});
