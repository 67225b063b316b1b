import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { MFD } from '../helpers/cli.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { runInPidNamespace, skipUnlessPidNamespace } from '../helpers/pidns.ts';

// Ctrl-C while the [notify] command runs, sent to the real CLI in a private pid namespace
// (TESTING.md §4), so the signal and the stop of the command's group can reach nothing else.
const node = JSON.stringify(process.execPath);
// Notes its environment and that it started, then runs until it is stopped.
const NOTIFY_JS = `const fs = require('fs');
fs.writeFileSync(process.argv[2] + '.env', JSON.stringify(process.env));
if (process.env.MFD_RESULT === 'success') setInterval(() => {}, 1000);
fs.writeFileSync(process.argv[2], String(process.pid));`;
// A build that notes it started, then waits until it is stopped (its commit's second version).
const BUILD_JS = `if (require('fs').existsSync('hold')) { require('fs').writeFileSync(process.env.T_BUILDING, 'x'); setInterval(() => {}, 1000); }`;

async function scene(t: TestContext) {
  const tmp = await tmpRoot(t);
  const script = join(tmp, 'notify.js');
  const started = join(tmp, 'notify-started');
  await writeFile(script, NOTIFY_JS);
  const app = await appFixture(t, {
    config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "b.js"]]\n` +
      `[notify]\ncommand = [${node}, ${JSON.stringify(script)}, ${JSON.stringify(started)}]\non = ["manual"]\ntimeout = "10m"\n`,
  });
  const deploy = (env: Record<string, string> = {}) =>
    ({ op: 'start' as const, id: 'mfd', argv: [process.execPath, MFD, 'deploy'], cwd: app.root, env: { NO_COLOR: '1', ...env } });
  return { app, tmp, started, deploy };
}

describe('notify command and Ctrl-C (e2e, private pid namespace)', () => {
  test('Ctrl-C while the notify command runs stops it, as a build command is stopped, instead of waiting out notify.timeout', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const { app, started, deploy } = await scene(t);
    await app.commitVersion(1, { extra: { 'b.js': BUILD_JS } });
    const r = await runInPidNamespace([
      deploy(),
      { op: 'waitFile', path: `${started}.env` },
      { op: 'signal', id: 'mfd', signal: 'SIGINT' },
      // Far less than its 10 minutes: the command gets SIGTERM, and it takes it.
      { op: 'exit', id: 'mfd', ms: 30_000 },
    ]);
    const { stderr } = r.results.mfd!;
    assert.match(stderr, /notify command \[.*\] failed with abort \(process group terminated\)/, stderr);
    assert.deepEqual(r.leftover, [], 'nothing the notify command was outlives mfd');
  });

  test('a run that Ctrl-C interrupted still runs the notify command, which is told so', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const { app, tmp, started, deploy } = await scene(t);
    await app.commitVersion(1, { extra: { 'b.js': BUILD_JS, hold: 'x' } });
    const building = join(tmp, 'building');
    const r = await runInPidNamespace([
      deploy({ T_BUILDING: building }),
      { op: 'waitFile', path: building },
      { op: 'signal', id: 'mfd', signal: 'SIGINT' },
      { op: 'exit', id: 'mfd' },
    ]);
    assert.equal(r.results.mfd!.code, 130, r.results.mfd!.stderr);
    const seen = JSON.parse(await readFile(`${started}.env`, 'utf8')) as Record<string, string>;
    assert.equal(seen.MFD_RESULT, 'interrupted');
    assert.doesNotMatch(r.results.mfd!.stderr, /notify command/);
  });
});
