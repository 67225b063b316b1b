import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
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

  test('a health.url on a port fetch never connects to (6000, 6667, ...) is a config error, exit 2, not a healthy app rolled back', async (t) => {
    // A healthy app on such a port: fetch() refused it ("TypeError"), so every deploy was rolled back.
    const server = await listenOnBlockedPort([6000, 6666, 6667, 6665, 6668, 6669, 6679, 6697, 10080, 5060, 5061, 4190, 6566]);
    t.after(() => new Promise((r) => server.close(r)));
    const { port } = server.address() as { port: number };
    const app = await appFixture(t);
    await app.commitVersion(1);
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = []\n[health]\nurl = "http://127.0.0.1:${port}/health"\ntimeout = "300ms"\ninterval = "50ms"\n`);
    const r = await mfd(['deploy', '--ci'], { cwd: app.root });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`^error: .*mfd\\.toml: line 6: health\\.url: port ${port} is one fetch\\(\\) never connects to .*health\\.command = \\["curl"`, 'm'));
    assert.deepEqual((await readdir(app.root)).filter((n) => n.startsWith('mfd_') || n === 'active'), []);
  });
});

/** An HTTP server answering 200 on the first of `ports` that is free on 127.0.0.1. */
async function listenOnBlockedPort(ports: number[]): Promise<Server> {
  for (const port of ports) {
    const server = createServer((_req, res) => res.end('ok'));
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) return server;
  }
  throw new Error(`none of ports ${ports.join(', ')} is free on 127.0.0.1`);
}
