// The status page in a real browser: the built `mfd serve` (in a private pid namespace, stopped
// with SIGTERM), the real git server, real deploys with a real health check, and Debian's chromium
// through playwright-core. One screenshot per state goes to test-artifacts/page/.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { artifact, launchBrowser } from '../helpers/browser.ts';
import { MFD, mfd } from '../helpers/cli.ts';
import { freePort } from '../helpers/http.ts';
import { until } from '../helpers/hold.ts';
import { runInPidNamespace, skipUnlessPidNamespace } from '../helpers/pidns.ts';
import { deliver, github, githubExample } from '../serve/deliveries.ts';

const SECRET = 'page-e2e-secret-5c0b';
const node = JSON.stringify(process.execPath);
// Builds at once, unless the commit holds `hold-build`: then it says so and waits for T_DIR/release.
const BUILD = `const fs = require('fs'), path = require('path');
if (!fs.existsSync('hold-build')) process.exit(0);
console.log('waiting for <release> & "go"');
const wait = () => fs.existsSync(path.join(process.env.T_DIR, 'release')) ? console.log('released') : setTimeout(wait, 10);
wait();`;
// Unhealthy when the deployment holds `unhealthy`.
const CHECK = `[${node}, "-e", "if (require('fs').existsSync('unhealthy')) { console.log('not healthy'); process.exit(1) }"]`;


function pushOf(app: AppFixture, id: string) {
  const payload = githubExample('push', (p) => p.ref === 'refs/heads/master');
  payload.ref = 'refs/heads/main';
  payload.repository = { ...(payload.repository as object), full_name: 'test/app', clone_url: app.url, html_url: app.url.replace(/\.git$/, '') };
  return github('push', payload, SECRET, { id });
}

const activeSha = async (app: AppFixture) => (await readlink(join(app.root, 'active')).catch(() => '')).split('_').pop();

describe('status page in a browser (e2e)', () => {
  // Bounded, so a browser that dies under load fails this test instead of holding CI open.
  test('after a good deploy, during a deploy (its live step), and after an automatic rollback', { timeout: 300_000 }, async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;
    if (await skipUnlessPidNamespace(t)) return;
    const app = await appFixture(t);
    const dir = join(app.root, '..');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = [[${node}, "build.cjs"]]\n[health]\ncommand = ${CHECK}\ntimeout = "60s"\nretries = 0\n[serve]\nlisten = "127.0.0.1:${port}"\n`);
    const one = await app.commitVersion(1, { extra: { 'build.cjs': BUILD } });
    const term = join(dir, 'term');
    const release = join(dir, 'release');
    const running = runInPidNamespace(
      [
        { op: 'start', id: 'serve', argv: [process.execPath, MFD, 'serve'], cwd: app.root, env: { NO_COLOR: '1', MFD_WEBHOOK_SECRET: SECRET, T_DIR: dir } },
        { op: 'waitOutput', id: 'serve', text: 'serving webhooks on' },
        // The whole browser part runs meanwhile: seconds alone, far longer beside other tests.
        { op: 'waitFile', path: term, ms: 220_000 },
        { op: 'signal', id: 'serve', signal: 'SIGTERM' },
        { op: 'exit', id: 'serve', ms: 60_000 },
      ],
      240_000,
    );
    let two = '';
    try {
      // Good: the first look at start deploys v1, and its health check passes.
      await until(async () => (await activeSha(app)) === one, `v1 (${one}) to go live`, 90_000);
      const page = await browser.newPage();
      await until(async () => (await page.goto(url).then((r) => r?.status(), () => undefined)) === 200, 'the page to answer', 30_000);
      await page.waitForFunction(() => document.querySelector('#runs')?.textContent?.includes('success'), undefined, { timeout: 30_000 });
      const good = await page.locator('body').innerText();
      assert.ok(good.includes(one), good);
      assert.match(good, /healthy: came up and passed its checks/);
      assert.match(good, /No deploy running\./);
      assert.match(good, /Deploying pushes to refs\/heads\/main by itself/);
      assert.match(good, /\npoll\nsuccess\n/);
      await page.screenshot({ path: await artifact('page', '1-good'), fullPage: true });

      // During: a push of v2, whose build waits; the page already open shows the live step by itself.
      two = await app.commitVersion(2, { extra: { 'build.cjs': BUILD, 'hold-build': 'yes', unhealthy: 'yes' } });
      const answer = await deliver(url, pushOf(app, 'page-e2e-1'));
      assert.equal(answer.status, 202, answer.body);
      await page.waitForFunction(() => document.getElementById('running-now')?.textContent?.startsWith('Deploying: build'), undefined, { timeout: 60_000 });
      await page.waitForFunction(() => document.getElementById('running-tail')?.textContent?.includes('waiting for <release>'), undefined, { timeout: 60_000 });
      const during = await page.locator('#running').innerText();
      assert.match(during, /Deploying: build/);
      assert.match(during, /✓ resolve/);
      assert.match(during, /✓ checkout/);
      assert.ok(during.includes('waiting for <release> & "go"'), `the build's output, as text: ${during}`);
      assert.match(during, /log so far/);
      await page.screenshot({ path: await artifact('page', '2-deploying'), fullPage: true });
      const logHref = await page.locator('#running a').getAttribute('href');
      // Two runs of one process in one second get -2, -3... (state/runlog.ts): here the poll's and the push's.
      assert.match(logHref ?? '', /^runs\/\d{8}T\d{6}Z-deploy-\d+(-\d+)?\/log$/);

      // After: v2 is unhealthy, so mfd rolls back to v1; the page reloads itself when the run ends.
      await writeFile(release, '');
      await page.waitForFunction(() => document.querySelector('#runs')?.textContent?.includes('rolled-back'), undefined, { timeout: 90_000 });
      const after = await page.locator('body').innerText();
      assert.equal(await activeSha(app), one);
      assert.match(after, /rolled-back/);
      assert.match(after, /HEALTH_CHECK_FAILED|unhealthy/);
      assert.match(after, /Quarantined/);
      assert.ok(after.includes(two), 'the rolled-back commit is named as quarantined');
      assert.match(after, /webhook page-e2e-1/);
      assert.match(after, /No deploy running\./);
      await page.screenshot({ path: await artifact('page', '3-rolled-back'), fullPage: true });

      // The run's log, as a page: the build's output escaped, shown as text.
      await page.goto(`${url}/${logHref}`);
      const log = await page.locator('#log').innerText();
      assert.ok(log.includes('waiting for <release> & "go"'), log);
      assert.match(log, /unhealthy/);
    } finally {
      await writeFile(release, '');
      await writeFile(term, '');
    }
    const report = await running;
    const serve = report.results.serve!;
    assert.equal(serve.code, 0, serve.stderr);
    assert.deepEqual(report.leftover, []);
    const history = (await readFile(join(app.root, '.mfd', 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { outcome: string });
    assert.deepEqual(history.map((h) => h.outcome), ['success', 'rolled-back']);
    // The terminal tells the same facts.
    const status = await mfd(['status'], { cwd: app.root });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^active: +${one} `, 'm'));
    assert.match(status.stdout, /^state: +built, came up healthy$/m);
    assert.match(status.stdout, /^last run: deploy → rolled-back \(HEALTH_CHECK_FAILED: .*\) at \S+ \(webhook page-e2e-1, took \d+\.\ds; mfd logs \d{8}T\d{6}Z-deploy-\d+(-\d+)?\)$/m);
    assert.match(status.stdout, new RegExp(`^skipped: +${two} \\(rolled-back `, 'm'));
  });
});
