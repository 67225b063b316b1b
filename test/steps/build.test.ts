import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpRoot } from '../helpers/repo.ts';
import { heldFifo } from '../helpers/fifo.ts';
import { runBuild } from '../../src/steps/build.ts';
import { BuildFailedError } from '../../src/errors/index.ts';

const node = process.execPath;


describe('build', () => {
  test('runs each argv in the deployment dir with MFD_* variables and without the repo token', async (t) => {
    const d = await tmpRoot(t);
    const out: string[] = [];
    process.env.MFD_REPO_TOKEN = 'tok-should-not-leak';
    t.after(() => delete process.env.MFD_REPO_TOKEN);
    const script = 'require("fs").writeFileSync("env.json", JSON.stringify({cwd: process.cwd(), c: process.env.MFD_COMMIT, t: process.env.MFD_REPO_TOKEN ?? null})); console.log("built $HOME")';
    const timings = await runBuild({
      baseEnv: process.env,
      dir: d,
      commands: [[node, '-e', script], [node, '-e', 'process.stderr.write("second\\n")']],
      env: { MFD_COMMIT: 'abc' },
      logFile: 'x.log',
      onOutput: (c) => out.push(c),
    });
    assert.equal(timings.length, 2);
    assert.deepEqual(JSON.parse(await readFile(join(d, 'env.json'), 'utf8')), { cwd: d, c: 'abc', t: null });
    // No shell: "$HOME" reaches the program literally.
    assert.match(out.join(''), /built \$HOME/);
    assert.match(out.join(''), /second/);
  });

  test('a failing command stops the build with its argv, exit status and last lines', async (t) => {
    const d = await tmpRoot(t);
    const ran: number[] = [];
    const err = await runBuild({
      baseEnv: process.env,
      dir: d,
      commands: [[node, '-e', 'console.log("line1"); console.error("boom"); process.exit(3)'], [node, '-e', '']],
      env: {},
      logFile: 'the.log',
      onCommand: (_argv, i) => ran.push(i),
    }).catch((e: unknown) => e);
    assert.ok(err instanceof BuildFailedError);
    assert.equal(err.exitCode, 5);
    assert.deepEqual(ran, [0]);
    assert.match(err.message, /exit status 3/);
    assert.match(err.message, /line1\nboom/);
    assert.match(err.hint!, /the\.log/);
  });

  test('a command that does not exist fails the build, naming it', async (t) => {
    const err = await runBuild({ baseEnv: process.env, dir: await tmpRoot(t), commands: [['mfd-no-such-program']], env: {}, logFile: 'l' }).catch((e: unknown) => e);
    assert.ok(err instanceof BuildFailedError);
    assert.match(err.message, /mfd-no-such-program.*could not start/);
  });

  test('build.timeout kills the whole process tree', async (t) => {
    const d = await tmpRoot(t);
    const pidFile = join(d, 'grandchild.pid');
    // The command starts a grandchild that would live for a minute, and records its pid at once
    // (spawn returns it synchronously), so the test does not race the grandchild's own start-up.
    const script = `const c = require("child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], {stdio: "inherit"}); require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); setTimeout(() => {}, 60000)`;
    const err = await runBuild({ baseEnv: process.env, dir: d, commands: [[node, '-e', script]], env: {}, timeoutMs: 3000, logFile: 'l' }).catch((e: unknown) => e);
    assert.ok(err instanceof BuildFailedError);
    assert.match(err.message, /timeout after/);
    const pid = Number(await readFile(pidFile, 'utf8'));
    await waitFor(() => !alive(pid), 'the grandchild to be killed');
  });

  // Hang guard only: on a build that waits for the escaped process, nothing else would end the test.
  test('a process the command left in a session of its own, holding its output, does not hold the build once the command is done', { timeout: 60_000 }, async (t) => {
    const d = await tmpRoot(t);
    const fifo = heldFifo(t, d);
    // `setsid` takes the cat out of the command's process group (as a daemon does); it keeps the
    // build's stdout open until the test closes the FIFO, which it does only after the build returned.
    const out: string[] = [];
    const timings = await runBuild({ baseEnv: process.env, dir: d, commands: [['sh', '-c', `setsid cat ${fifo} & echo built`]], env: {}, logFile: 'l', onOutput: (c) => out.push(c) });
    assert.equal(timings.length, 1);
    assert.match(out.join(''), /built/, 'what the command wrote before it ended is kept');
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
