import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture, BUILD_COMMANDS } from '../helpers/app.ts';
import { mfd, startMfd } from '../helpers/cli.ts';
import { testContext } from '../helpers/context.ts';
import { deploy } from '../../src/run/deploy.ts';
import { until } from '../helpers/hold.ts';

const node = JSON.stringify(process.execPath);
// Holds until T_GATE exists (when set), after saying so in T_STARTED; then builds as usual.
const GATED = `const fs = require('fs'); const e = process.env; if (e.T_STARTED) fs.writeFileSync(e.T_STARTED, 'x');
(function wait() { if (e.T_GATE && !fs.existsSync(e.T_GATE)) return setTimeout(wait, 10); fs.writeFileSync('build-info.json', '{}'); })();`;
const exists = (p: string) => access(p).then(() => true, () => false);


// The commands as processes; what the runs record is tested in-process in
// test/commands/history.test.ts. Deploys that only set the scene run in-process too.
describe('history, logs and status (e2e)', () => {
  test('a null or truncated line in history.jsonl or activations.jsonl is skipped with a warning, never a crash', async (t) => {
    const app = await appFixture(t);
    const one = await app.commitVersion(1);
    const two = await app.commitVersion(2);
    await deploy((await testContext(app.root)).ctx, one);
    await deploy((await testContext(app.root)).ctx, two);
    for (const file of ['history.jsonl', 'activations.jsonl']) {
      const path = join(app.root, '.mfd', file);
      const lines = (await readFile(path, 'utf8')).trim().split('\n');
      await writeFile(path, [lines[0], 'null', '{"name": "mfd_', '[1,2]', ...lines.slice(1)].join('\n') + '\n');
    }
    for (const args of [['status'], ['history'], ['logs']]) {
      const r = await mfd(args, { cwd: app.root });
      assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
      if (args[0] !== 'logs') assert.match(r.stderr, /warning: .*\.jsonl:2: skipped an invalid line/);
    }
    const history = JSON.parse((await mfd(['history', '--json'], { cwd: app.root })).stdout);
    assert.equal(history.length, 2);
    const rb = await mfd(['rollback'], { cwd: app.root });
    assert.equal(rb.code, 0, rb.stderr);
    assert.match(rb.stderr, /warning: .*activations\.jsonl:3: skipped a line that is not JSON/);
    assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${one}$`));
  });

  test('status says "came up healthy" only of a deployment recorded healthy, never of one unchecked or missing', async (t) => {
    const app = await appFixture(t);
    await app.commitVersion(1);
    await deploy((await testContext(app.root)).ctx, undefined);
    const unchecked = await mfd(['status'], { cwd: app.root });
    assert.match(unchecked.stdout, /^state: +built \(nothing checks that it came up: no \[systemd\] unit or \[health\] check configured\)$/m);
    assert.doesNotMatch(unchecked.stdout, /healthy/);

    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\n${BUILD_COMMANDS}\n[health]\ncommand = ["true"]\n`);
    await app.commitVersion(2);
    await deploy((await testContext(app.root)).ctx, undefined);
    assert.match((await mfd(['status'], { cwd: app.root })).stdout, /^state: +built, came up healthy$/m);

    await rm(join(app.root, await readlink(join(app.root, 'active'))), { recursive: true });
    const missing = await mfd(['status'], { cwd: app.root });
    assert.equal(missing.code, 0, missing.stderr);
    assert.match(missing.stdout, /^state: +missing \(active points at a directory that is gone\)$/m);
    assert.doesNotMatch(missing.stdout, /healthy/);
  });

  test('a deploy refused with LOCK_HELD is recorded as refused; status shows the holder as running and the last real run', async (t) => {
    const app = await appFixture(t, { config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "gated.js"]]\n` });
    await app.commitVersion(1, { extra: { 'gated.js': GATED } });
    await deploy((await testContext(app.root)).ctx, undefined);
    await app.commitVersion(2, { extra: { 'gated.js': GATED } });
    const gate = join(app.root, '..', 'gate');
    const started = join(app.root, '..', 'started');
    const holder = startMfd(['deploy', 'main'], { cwd: app.root, env: { T_GATE: gate, T_STARTED: started, USER: 'dora' } });
    await until(() => exists(started), `the build to start:\n${holder.output()}`);

    const refused = await mfd(['deploy'], { cwd: app.root });
    assert.equal(refused.code, 3, refused.stderr);
    const status = await mfd(['status'], { cwd: app.root });
    assert.match(status.stdout, new RegExp(`^running: +deploy main by dora@.* pid ${holder.child.pid} since .*ago\\)$`, 'm'));
    assert.match(status.stdout, /^last run: deploy → success at /m, 'the refused run is not the last run');
    const json = JSON.parse((await mfd(['status', '--json'], { cwd: app.root })).stdout);
    assert.equal(json.running.pid, holder.child.pid);
    assert.equal(json.lastRun.outcome, 'success');
    const history = JSON.parse((await mfd(['history', '--json'], { cwd: app.root })).stdout);
    assert.equal(history[0].outcome, 'refused');
    assert.equal(history[0].error.code, 'LOCK_HELD');

    await writeFile(gate, 'go');
    assert.equal((await holder.done).code, 0);
    const after = await mfd(['status'], { cwd: app.root });
    assert.match(after.stdout, /^last run: deploy main → success at /m);
    assert.doesNotMatch(after.stdout, /^running:/m);
  });
});
