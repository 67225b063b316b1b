// The shipped user unit systemd/user/mfd-serve@.service under a real `systemd --user` (TESTING.md
// §3): the secret in the user's own file, a signed push that deploys and restarts the app (a user
// unit of the same manager), which then answers with the pushed commit; `systemctl stop` ends it cleanly.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { eventually } from '../helpers/hold.ts';
import { MFD } from '../helpers/cli.ts';
import { freePort, getText } from '../helpers/http.ts';
import { requireSystemd } from '../helpers/systemd.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { deliver, github, githubExample } from '../serve/deliveries.ts';

const SECRET = 'systemd-credential-secret-5e1';
const SERVER_JS = `
const info = JSON.parse(require('fs').readFileSync('build-info.json', 'utf8'));
require('http').createServer((q, s) => s.end(info.commit)).listen(Number(process.env.PORT), '127.0.0.1');
`;


describe('mfd serve under a real systemd --user', () => {
  test('the shipped user unit deploys a signed push, the app answers with it, and stop ends it with success', async (t) => {
    const systemd = await requireSystemd(t);
    if (!systemd) return;
    const app = await appFixture(t);
    const home = await tmpRoot(t);
    const [appPort, servePort] = [await freePort(), await freePort()];
    const log = join(home, 'serve.log');
    // The shipped unit, with this test's home for %h and this checkout's mfd for the binary.
    const shipped = await readFile(new URL('../../systemd/user/mfd-serve@.service', import.meta.url), 'utf8');
    const unit = shipped
      .replaceAll('%h/apps/%i', app.root)
      .replaceAll('%h', home)
      .replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath} ${MFD}`)
      .replace('[Service]\n', `[Service]\nStandardOutput=append:${log}\nStandardError=append:${log}\n`);
    await mkdir(join(home, '.config', 'mfd', 'app'), { recursive: true });
    await writeFile(join(home, '.config', 'mfd', 'app', 'webhook-secret'), `${SECRET}\n`, { mode: 0o600 });
    // A unit name of its own: user managers of concurrent tests share the cgroup tree, so two
    // "app.service" of two managers would be one cgroup, and stopping one kills the other's app.
    await systemd.installUnit('serve-app', `[Service]\nWorkingDirectory=${app.root}/active\nExecStart=${process.execPath} server.js\nEnvironment=PORT=${appPort}\n`);
    await systemd.installUnit('mfd-serve@', unit);
    await app.writeConfig([
      `[repo]\nurl = "${app.url}"`,
      `[build]\ncommands = [[${JSON.stringify(process.execPath)}, "build.js"]]`,
      `[systemd]\nunit = "serve-app"\nscope = "user"`,
      `[serve]\nlisten = "127.0.0.1:${servePort}"\nsecret_file = "${join(home, '.config', 'mfd', 'app', 'webhook-secret')}"`,
    ].join('\n\n'));
    const one = await app.commitVersion(1, { extra: { 'server.js': SERVER_JS } });
    const started = await systemd.systemctl('start', 'mfd-serve@app');
    assert.equal(started.code, 0, started.stderr);
    const serveLog = () => readFile(log, 'utf8').catch(() => '');
    try {
      // Its first poll deploys what is there and restarts the app.
      assert.equal(await eventually('the app to answer', async () => ((await getText(appPort, '/', 500).catch(() => '')) === one ? one : undefined), 60_000), one);
      const two = await app.commitVersion(2, { extra: { 'server.js': SERVER_JS } });
      const payload = githubExample('push', (p) => p.ref === 'refs/heads/master');
      payload.ref = 'refs/heads/main';
      payload.repository = { ...(payload.repository as object), full_name: 'test/app', clone_url: app.url, html_url: app.url };
      const answer = await deliver(`http://127.0.0.1:${servePort}`, github('push', payload, SECRET));
      assert.equal(answer.status, 202, `${answer.body}\n${await serveLog()}`);
      assert.equal(await eventually('the app to answer with the pushed commit', async () => ((await getText(appPort, '/', 500).catch(() => '')) === two ? two : undefined), 60_000), two);
      // systemctl stop: SIGTERM, and mfd serve ends cleanly (a failure would leave the unit "failed").
      const stopped = await systemd.systemctl('stop', 'mfd-serve@app');
      assert.equal(stopped.code, 0, stopped.stderr);
      const state = await systemd.systemctl('show', '-p', 'Result', '-p', 'ExecMainStatus', 'mfd-serve@app');
      assert.match(state.stdout, /^Result=success$/m, `${state.stdout}\n${await serveLog()}`);
      assert.match(state.stdout, /^ExecMainStatus=0$/m);
      assert.ok(!(await serveLog()).includes(SECRET));
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- mfd serve's log:\n${await serveLog()}`, { cause: error });
    }
  });
});
