// The shipped Caddyfile (systemd/Caddyfile) in front of a real `mfd serve`, for real: Debian's
// caddy with `tls internal` on loopback high ports, its storage in the test's directory, and a
// signed webhook over HTTPS, checked against caddy's own root CA, that reaches mfd serve and deploys.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { eventually } from '../helpers/hold.ts';
import { MFD } from '../helpers/cli.ts';
import { freePort } from '../helpers/http.ts';
import { pidNamespaceAvailable, runInPidNamespace } from '../helpers/pidns.ts';
import { github, githubExample, type Answer } from '../serve/deliveries.ts';

const SECRET = 'caddy-webhook-secret-77ab';

async function skipUnless(t: TestContext): Promise<boolean> {
  const probe = await pidNamespaceAvailable();
  const caddy = await new Promise<boolean>((resolve) => execFile('caddy', ['version'], (error) => resolve(!error)));
  const why = !probe.ok ? probe.why : !caddy ? 'caddy is not installed (apt-get install -y caddy)' : undefined;
  if (!why) return false;
  if (process.env.CI === 'true') assert.fail(`the Caddy test needs it: ${why}`);
  t.skip(why);
  return true;
}

/** The shipped site block, on https://localhost:<port> with caddy's internal CA, proxying to `servePort`. */
async function testCaddyfile(storage: string, ports: { http: number; https: number; serve: number }): Promise<string> {
  const shipped = await readFile(new URL('../../systemd/Caddyfile', import.meta.url), 'utf8');
  assert.match(shipped, /^deploy\.example\.com \{$/m);
  assert.match(shipped, /reverse_proxy 127\.0\.0\.1:8090$/m);
  const global = `{\n\tadmin off\n\tauto_https disable_redirects\n\tskip_install_trust\n\tstorage file_system ${storage}\n\thttp_port ${ports.http}\n\thttps_port ${ports.https}\n}\n`;
  return global + shipped
    .replace(/^deploy\.example\.com \{$/m, `https://localhost:${ports.https} {\n\ttls internal`)
    .replace(/reverse_proxy 127\.0\.0\.1:8090$/m, `reverse_proxy 127.0.0.1:${ports.serve}`);
}

function postTls(port: number, path: string, ca: string, d: { headers: Record<string, string>; body: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // The certificate is verified for real, against caddy's root and for the name localhost.
    const req = request({ host: '127.0.0.1', servername: 'localhost', port, path, method: 'POST', ca, headers: { ...d.headers, host: `localhost:${port}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text, json: text.startsWith('{') ? JSON.parse(text) : {} }));
    });
    req.on('error', reject);
    req.end(d.body);
  });
}


describe('Caddy in front of mfd serve', () => {
  test('a signed webhook over HTTPS through the shipped Caddyfile reaches mfd serve and deploys', async (t) => {
    if (await skipUnless(t)) return;
    const app = await appFixture(t);
    const dir = join(app.root, '..');
    const [http, https, serve] = [await freePort(), await freePort(), await freePort()];
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n\n[build]\ncommands = [[${JSON.stringify(process.execPath)}, "build.js"]]\n\n[serve]\nlisten = "127.0.0.1:${serve}"\n`);
    const one = await app.commitVersion(1);
    const storage = join(dir, 'caddy');
    const home = join(dir, 'home');
    await mkdir(home);
    const caddyfile = join(dir, 'Caddyfile');
    await writeFile(caddyfile, await testCaddyfile(storage, { http, https, serve }));
    const term = join(dir, 'term');
    const env = { HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config') };
    const running = runInPidNamespace([
      { op: 'start', id: 'caddy', argv: ['caddy', 'run', '--config', caddyfile, '--adapter', 'caddyfile'], cwd: dir, env },
      { op: 'start', id: 'serve', argv: [process.execPath, MFD, 'serve'], cwd: app.root, env: { NO_COLOR: '1', MFD_WEBHOOK_SECRET: SECRET } },
      { op: 'waitOutput', id: 'serve', text: 'serving webhooks on' },
      { op: 'waitFile', path: term },
      { op: 'signal', id: 'serve', signal: 'SIGTERM' },
      { op: 'signal', id: 'caddy', signal: 'SIGTERM' },
      { op: 'exit', id: 'serve' },
      { op: 'exit', id: 'caddy' },
    ]);
    try {
      await eventually('the first deploy', async () => ((await readlink(join(app.root, 'active'))).endsWith(one) ? true : undefined));
      const ca = await eventually('caddy\'s root certificate', () => readFile(join(storage, 'pki', 'authorities', 'local', 'root.crt'), 'utf8'));
      const two = await app.commitVersion(2);
      const payload = githubExample('push', (p) => p.ref === 'refs/heads/master');
      payload.ref = 'refs/heads/main';
      payload.repository = { ...(payload.repository as object), full_name: 'test/app', clone_url: app.url, html_url: app.url };
      const answer = await eventually('caddy to answer over HTTPS', () => postTls(https, '/webhook', ca, github('push', payload, SECRET)));
      assert.equal(answer.status, 202, answer.body);
      assert.equal(answer.json.action, 'deploy');
      // A delivery signed with another secret is refused by mfd serve, through the proxy.
      const forged = await postTls(https, '/webhook', ca, github('push', payload, 'not-the-secret'));
      assert.equal(forged.status, 401);
      // The proxy passes nothing else of its host to mfd serve.
      assert.equal((await postTls(https, '/other', ca, { headers: {}, body: '' })).status, 404);
      await eventually('the pushed commit to be active', async () => ((await readlink(join(app.root, 'active'))).endsWith(two) ? true : undefined), 60_000);
    } finally {
      await writeFile(term, '');
    }
    const report = await running;
    assert.equal(report.results.serve!.code, 0, report.results.serve!.stderr);
    assert.match(report.results.serve!.stderr, /webhook github push [0-9a-f-]+: push to refs\/heads\/main, deploy loop poked/);
    assert.match(report.results.serve!.stderr, /webhook delivery [0-9a-f-]+ from 127\.0\.0\.1 \(forwarded for 127\.0\.0\.1\): bad signature/);
    assert.deepEqual(report.leftover, []);
  });
});
