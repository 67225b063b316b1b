import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { mfd } from '../helpers/cli.ts';

const node = JSON.stringify(process.execPath);
const WINDOW_S = 120;

describe('redeploy of the same sha (e2e)', () => {
  // A redeploy with changed build commands is a new build of the same sha. Within the same second
  // its name (mfd_<unix>_<sha>) used to equal the active one's, and mfd removed that directory
  // before building. Which second the deploy starts in cannot be chosen, so every name it could
  // pick in the next two minutes is taken beforehand by a built deployment of that sha.
  test('a new build never removes or reuses an existing directory of that name, the active one least of all', async (t) => {
    const app = await appFixture(t);
    const sha = await app.commitVersion(1);
    assert.equal((await mfd(['deploy', sha], { cwd: app.root })).code, 0);
    const first = await readlink(join(app.root, 'active'));
    const start = Number(/^mfd_(\d+)_/.exec(first)![1]);
    const record = JSON.parse(await readFile(join(app.root, '.mfd', 'deployments', `${first}.json`), 'utf8'));
    const occupied = [first];
    for (let s = start + 1; s <= start + WINDOW_S; s++) {
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
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = [[${node}, "-e", "process.exit(3)"]]\n`);
    assert.ok(Date.now() / 1000 < start + WINDOW_S - 30, 'the deploy starts inside the window of taken names');
    const failed = await mfd(['deploy', sha], { cwd: app.root });
    assert.equal(failed.code, 5, failed.stderr);
    assert.match(failed.stderr, /active is untouched/);
    assert.equal(await readlink(join(app.root, 'active')), first);
    await untouched();
    const records = await readdir(join(app.root, '.mfd', 'deployments'));
    const failedName = records.map((f) => f.replace(/\.json$/, '')).find((n) => !occupied.includes(n));
    assert.ok(failedName, 'the failed build has a record of its own name');
    assert.match(failedName, new RegExp(`^mfd_\\d+_${sha}$`));
    const failedRecord = JSON.parse(await readFile(join(app.root, '.mfd', 'deployments', `${failedName}.json`), 'utf8'));
    assert.equal(failedRecord.state, 'failed');
    assert.deepEqual((await readdir(app.root)).filter((n) => n.startsWith('mfd_')).sort(), [...occupied].sort(), 'its directory is gone');

    // Changed commands that succeed: a new name, built and active; the one it replaced stays.
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = [[${node}, "build.js"], [${node}, "-e", ""]]\n`);
    const ok = await mfd(['deploy', sha], { cwd: app.root });
    assert.equal(ok.code, 0, ok.stderr);
    const next = await readlink(join(app.root, 'active'));
    assert.ok(!occupied.includes(next) && next !== failedName, `${next} is a new name`);
    assert.equal(JSON.parse(await readFile(join(app.root, 'active', 'build-info.json'), 'utf8')).commit, sha);
    assert.equal(JSON.parse(await readFile(join(app.root, '.mfd', 'deployments', `${next}.json`), 'utf8')).name, next);
  });
});
