import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { chooseColor, chooseMode, Reporter } from '../../src/sys/output.ts';

function capture(mode: 'tty' | 'plain' | 'json', color = false) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d));
  err.on('data', (d: Buffer) => (stderr += d));
  const tee: string[] = [];
  const reporter = new Reporter({ mode, color, verbose: false, stdout: out, stderr: err, tee: (l) => tee.push(l) });
  return { reporter, out: () => stdout, err: () => stderr, tee };
}

describe('output', () => {
  test('text that quotes the world reaches the terminal inert: controls escaped, colour kept, a build\'s own output untouched', () => {
    const c = capture('plain');
    const hostile = 'a\u001b]0;owned\u0007b\rc\u009b2Jd\u202ee\u007ff';
    const shown = 'a\\x1b]0;owned\\x07b\\x0dc\\x9b2Jd\\u202ee\\x7ff';
    c.reporter.failure({ code: 'X', message: hostile, hint: hostile });
    c.reporter.warn(hostile, hostile);
    c.reporter.info(hostile);
    c.reporter.result([hostile], {});
    assert.equal(c.err(), `error: ${shown}\n  hint: ${shown}\nwarning: ${shown}\n  hint: ${shown}\n${shown}\n`);
    assert.equal(c.out(), `${shown}\n`);
    assert.deepEqual(c.tee.slice(0, 2), [`error: ${shown}`, `  hint: ${shown}`], 'the run log keeps what the screen showed');
    // A build's last lines in its error keep their colour and lines; the live output is the user's own program.
    const tail = 'build failed; last lines:\n\u001b[31mred\u001b[0m\tdone';
    const d = capture('plain');
    d.reporter.failure({ code: 'X', message: tail });
    d.reporter.childOutput('\u001b]0;mine\u0007\r');
    assert.equal(d.err(), `error: ${tail}\n\u001b]0;mine\u0007\r`);
  });

  test('--json wins, then --ci or a non-TTY gives plain lines, else the spinner', () => {
    assert.equal(chooseMode({ json: true, ci: false, isTTY: true }), 'json');
    assert.equal(chooseMode({ json: false, ci: true, isTTY: true }), 'plain');
    assert.equal(chooseMode({ json: false, ci: false, isTTY: false }), 'plain');
    assert.equal(chooseMode({ json: false, ci: false, isTTY: true }), 'tty');
  });

  test('NO_COLOR turns colour off even with FORCE_COLOR; FORCE_COLOR turns it on in a pipe', () => {
    assert.equal(chooseColor({ NO_COLOR: '1', FORCE_COLOR: '1' }, true), false);
    assert.equal(chooseColor({ FORCE_COLOR: '1' }, false), true);
    assert.equal(chooseColor({ FORCE_COLOR: '0' }, true), false);
    assert.equal(chooseColor({}, true), true);
    assert.equal(chooseColor({}, false), false);
  });

  test('plain mode prints one line per step with its outcome on stderr, results on stdout, and tees to the log', async () => {
    const c = capture('plain');
    await c.reporter.step('fetch', 'abc', async () => 1, () => 'abc into cache');
    await assert.rejects(c.reporter.step('build', '1 command(s)', async () => { throw new Error('x'); }));
    c.reporter.result(['sha (active)'], { ok: true });
    assert.match(c.err(), /^✓ fetch +abc into cache \d+\.\d\ds\n✗ build +1 command\(s\) \d+\.\d\ds\n$/);
    assert.equal(c.out(), 'sha (active)\n');
    assert.equal(c.tee.length, 2);
    assert.doesNotMatch(c.err(), /\u001b/, 'no escape codes without colour or a TTY');
  });

  test('json mode puts exactly one JSON document on stdout, for success and for failure', () => {
    const ok = capture('json');
    ok.reporter.info('progress');
    ok.reporter.result(['human'], { ok: true, sha: 'a' });
    assert.deepEqual(JSON.parse(ok.out()), { ok: true, sha: 'a' });
    const bad = capture('json');
    bad.reporter.failure({ code: 'BUILD_FAILED', message: 'm', hint: 'h' });
    assert.deepEqual(JSON.parse(bad.out()), { ok: false, code: 'BUILD_FAILED', message: 'm', hint: 'h' });
    assert.match(bad.err(), /^error: m\n  hint: h\n$/);
  });

  test('a run\'s events render as the direct calls do: a skipped step shows its reason or nothing, output passes through', () => {
    const c = capture('plain');
    c.reporter.handle({ type: 'step-skipped', step: 'prune' });
    c.reporter.handle({ type: 'step-skipped', step: 'restart', reason: 'no [systemd] unit configured: nothing to restart' });
    c.reporter.handle({ type: 'output', chunk: 'built abc\n' });
    c.reporter.handle({ type: 'step-finished', step: 'build', detail: '1 command(s)', summary: '1 command(s)', ms: 1234, outcome: 'ok' });
    c.reporter.handle({ type: 'warning', message: 'w', hint: 'h' });
    c.reporter.handle({ type: 'run-finished', outcome: 'success', sha: null, deployment: null, error: null, at: 0 });
    assert.equal(c.err(), 'no [systemd] unit configured: nothing to restart\nbuilt abc\n✓ build     1 command(s) 1.23s\nwarning: w\n  hint: h\n');
    assert.equal(c.out(), '');
  });

  test('tty mode draws a spinner and clears it before the step line', async () => {
    const c = capture('tty', true);
    await c.reporter.step('resolve', 'main', async () => 'x');
    assert.match(c.err(), /⠋.*resolve main/);
    assert.match(c.err(), /\r\u001b\[2K\u001b\[32m✓/);
  });
});
