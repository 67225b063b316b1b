import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { mfd } from '../helpers/cli.ts';
import { createRepo, tmpRoot } from '../helpers/repo.ts';

const INSTALL_SH = 'echo ran >> "$MARKER"\nmkdir -p node_modules\ncp lock.txt node_modules/dep.txt\n';

describe('build cache (e2e)', () => {
  test('a redeploy with the same lockfile skips the install, says so, and the run log says it too', async (t) => {
    const app = await appFixture(t);
    const marker = join(await tmpRoot(t), 'runs');
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = [["sh", "install.sh"]]\n[[build.cache]]\ncommand = 0\ninputs = ["lock.txt"]\noutputs = ["node_modules"]\n`);
    const extra = { 'install.sh': INSTALL_SH, 'lock.txt': 'A\n' };
    await app.commitVersion(1, { extra });
    assert.equal((await mfd(['deploy'], { cwd: app.root, env: { MARKER: marker } })).code, 0);
    const first = await readlink(join(app.root, 'active'));
    await app.commitVersion(2, { extra });
    const second = await mfd(['deploy'], { cwd: app.root, env: { MARKER: marker } });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(await readFile(marker, 'utf8'), 'ran\n');
    const line = `build: sh install.sh skipped: node_modules reused from ${first} (inputs unchanged)`;
    assert.ok((second.stdout + second.stderr).includes(line), second.stdout + second.stderr);
    const logs = join(app.root, '.mfd', 'logs');
    const texts = await Promise.all((await readdir(logs)).map((f) => readFile(join(logs, f), 'utf8')));
    assert.ok(texts.some((text) => text.includes(line)));
  });

  test('a path out of the deployment is a config error (exit 2) naming the key, before anything is fetched', async (t) => {
    const app = await appFixture(t);
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = [["true"]]\n[[build.cache]]\ncommand = 0\ninputs = ["../secrets"]\noutputs = ["/usr/lib"]\n`);
    await app.commitVersion(1);
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /build\.cache\.0\.inputs\.0: expected a path relative to the deployment directory, got "\.\.\/secrets"/);
    assert.match(r.stderr, /build\.cache\.0\.outputs\.0: .*"\/usr\/lib" \(an absolute path\)/);
    assert.doesNotMatch(r.stderr, /at .*\.(ts|js|cjs):\d+/);
    assert.deepEqual((await readdir(app.root)).filter((n) => n.startsWith('mfd_')), []);
  });
});

describe('bench/build-cache.ts (e2e)', () => {
  async function bench(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; out: string }> {
    const { spawn } = await import('node:child_process');
    const file = new URL('../../bench/build-cache.ts', import.meta.url).pathname;
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      child.on('close', (code) => resolve({ code, out }));
    });
  }

  test('runs on a tiny app, offline, and reports both figures', async () => {
    const r = await bench(['--packages', '2', '--reps', '1']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /npm ci \(installs\): +\d+ ms/);
    assert.match(r.out, /lockfile unchanged \(reused\): \d+ ms/);
  });

  test('--repo deploys a clone the user gives it (here an npm project whose one dependency is in it, npm offline)', async (t) => {
    const repo = await createRepo(await tmpRoot(t), 'project.git');
    const env = { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' };
    await repo.commit({
      'package.json': '{"name":"project","version":"1.0.0","dependencies":{"dep":"file:lib/dep"}}\n',
      'lib/dep/package.json': '{"name":"dep","version":"1.0.0"}\n',
    }, 'project');
    await new Promise<void>((resolve, reject) => execFile('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], { cwd: repo.work, env }, (e) => (e ? reject(e) : resolve())));
    await repo.commit({}, 'lockfile');
    const r = await bench(['--repo', repo.work, '--reps', '1'], env);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /app: project at [0-9a-f]{12} /);
    assert.match(r.out, /lockfile unchanged \(reused\): \d+ ms/);
  });
});
