// The deploy loop with a real `systemd --user` (TESTING.md §3): what the loop deploys by itself is
// what the unit serves, and a commit whose unit will not start is rolled back, quarantined and
// never brought back by a poll, while the next good commit is.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { freePort, getText } from '../helpers/http.ts';
import { requireSystemd } from '../helpers/systemd.ts';
import { createAppLoop } from '../../src/cd/app-loop.ts';
import { LevelLog } from '../../src/cd/log.ts';

// The app answers with the commit it was built from; one holding `fail-start` refuses to start.
const SERVER_JS = `
const info = JSON.parse(require('fs').readFileSync('build-info.json', 'utf8'));
require('http').createServer((q, s) => s.end(info.commit)).listen(Number(process.env.PORT), '127.0.0.1');
`;
const CHECK_JS = `process.exit(require('fs').existsSync('fail-start') ? 1 : 0)`;
// `fail-start` must also go again: the work tree keeps what an earlier commit added (null removes it).
const version = (app: AppFixture, n: number, failStart = false) =>
  app.commitVersion(n, { extra: { 'server.js': SERVER_JS, 'check.js': CHECK_JS, 'fail-start': (failStart ? 'x' : null) as string } });

describe('cd with a real systemd', () => {
  test('the loop deploys a pushed commit and the unit answers with it; one that fails to start is rolled back and skipped', async (t) => {
    const systemd = await requireSystemd(t);
    if (!systemd) return;
    const app = await appFixture(t);
    const port = await freePort();
    await systemd.installUnit('app', [
      '[Service]',
      `WorkingDirectory=${app.root}/active`,
      `ExecStartPre=${process.execPath} check.js`,
      `ExecStart=${process.execPath} server.js`,
      `Environment=PORT=${port}`,
    ].join('\n'));
    await app.writeConfig(`[repo]\nurl = "${app.url}"\n[build]\ncommands = [[${JSON.stringify(process.execPath)}, "build.js"]]\n[systemd]\nunit = "app"\nscope = "user"\n`);
    const lines: string[] = [];
    const { ctx } = await testContext(app.root, { env: systemd.env });
    const { loop, latest } = createAppLoop(ctx, new LevelLog((l) => lines.push(l)));
    const poll = async () => {
      loop.poke({ kind: 'poll' });
      await loop.idle();
    };

    const one = await version(app, 1);
    await poll();
    assert.equal(await getText(port), one, lines.join('\n'));
    const bad = await version(app, 2, true);
    await poll();
    assert.equal(latest()?.kind, 'deploy-failed');
    assert.match(lines.join('\n'), /^error: deploy of [0-9a-f]{40} failed: RESTART_ROLLED_BACK: /m);
    assert.equal(await getText(port), one);
    await poll();
    const skipped = latest();
    assert.ok(skipped?.kind === 'quarantined' && skipped.sha === bad, JSON.stringify(skipped));
    assert.match(skipped.reason, /^rolled-back: RESTART_ROLLED_BACK: /);
    assert.equal(await getText(port), one);
    const three = await version(app, 3);
    await poll();
    assert.equal(latest()?.kind, "deployed", lines.join("\n"));
    assert.equal(await getText(port), three);
  });
});
