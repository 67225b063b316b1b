import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { mfd } from '../helpers/cli.ts';
import { deployInProcess } from '../helpers/context.ts';

const node = JSON.stringify(process.execPath);
// Unhealthy when the deployment holds `unhealthy`, or when the test drops a `break-all` flag beside the app root.
const CHECK = (root: string) =>
  `[${node}, "-e", "const fs = require('fs'); if (fs.existsSync('unhealthy') || fs.existsSync(${JSON.stringify(join(root, '..', 'break-all')).replace(/"/g, "'")})) { console.log('not healthy'); process.exit(1) }"]`;
const active = (app: AppFixture) => readlink(join(app.root, 'active'));

// Exit 7 and 8 as the process shows them (the deploys that set the scene run in-process); a real unit's restarts and rollbacks run in-process
// in test/run/restart.test.ts.
describe('health checks (e2e)', () => {
  test('an unhealthy deployment is rolled back automatically: exit 7, previous active, marked failed', async (t) => {
    const app = await appFixture(t, {
      config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "build.js"]]\n[health]\ntimeout = "300ms"\ninterval = "50ms"\n`,
    });
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = [[${node}, "build.js"]]\n[health]\ncommand = ${CHECK(app.root)}\ntimeout = "300ms"\ninterval = "50ms"\n`);
    const one = await app.commitVersion(1);
    const first = await deployInProcess(app.root);
    assert.match(first.stderr, /✓ health/);
    const before = await active(app);
    const two = await app.commitVersion(2, { extra: { unhealthy: 'yes' } });
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, new RegExp(`error: mfd_\\d+_${two} is unhealthy: .*failed with exit status 1: not healthy; rolled back to ${one}, which is healthy`));
    assert.equal(await active(app), before);
    assert.equal((await mfd(['ls'], { cwd: app.root })).stdout, `${two} (failed)\n${one} (active)\n`);
  });

  test('when the way back is unhealthy too, mfd exits 8 and says the server needs attention', async (t) => {
    const app = await appFixture(t);
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = [[${node}, "build.js"]]\n[health]\ncommand = ${CHECK(app.root)}\ntimeout = "200ms"\ninterval = "50ms"\n`);
    const one = await app.commitVersion(1);
    await deployInProcess(app.root);
    await writeFile(join(app.root, '..', 'break-all'), 'x');
    await app.commitVersion(2);
    const r = await mfd(['deploy'], { cwd: app.root });
    assert.equal(r.code, 8, r.stderr);
    assert.match(r.stderr, new RegExp(`error: the server needs attention: .* failed \\(.*\\), and mfd_\\d+_${one}, put back as active, failed too`));
    assert.match(await active(app), new RegExp(one));
    const rb = await mfd(['rollback', one.slice(0, 8)], { cwd: app.root });
    assert.equal(rb.code, 8, 'a rollback onto an unhealthy deployment fails as a rollback');
  });
});
