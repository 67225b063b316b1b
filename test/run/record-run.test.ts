import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/config.ts';
import type { Context } from '../../src/context.ts';
import { HealthCheckFailedError } from '../../src/errors/index.ts';
import { fileBackend } from '../../src/lock/file.ts';
import { recordRun } from '../../src/run/record-run.ts';
import { readHistory } from '../../src/state/history.ts';
import { layoutOf } from '../../src/state/layout.ts';
import { Reporter } from '../../src/sys/output.ts';
import { tmpRoot } from '../helpers/repo.ts';

const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);

/** One terminal shared by every run of the process, as in a long-running mfd. */
function terminal() {
  let text = '';
  const sink = { write: (chunk: string) => void (text += chunk) };
  return { reporter: new Reporter({ mode: 'plain', color: false, verbose: false, stdout: sink, stderr: sink }), text: () => text };
}

function contextFor(root: string, reporter: Reporter, now: () => number): Context {
  const { config } = parseConfig(`[repo]\nurl = "http://127.0.0.1:1/app.git"\n[build]\ncommands = []\n`, { file: join(root, 'mfd.toml') });
  return {
    root, layout: layoutOf(root, process.pid), config, reporter, now, signal: new AbortController().signal,
    env: {}, identity: { user: 'test', host: 'test-host', pid: process.pid }, testHook: { pauseAt: undefined }, lockBackend: fileBackend, wait: false, force: false, dryRun: false,
  };
}

/** A promise and the function that settles it: to interleave two runs step by step. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe('recordRun', () => {
  test('two runs interleaved in one process each keep their own steps, log and history line', async (t) => {
    const out = terminal();
    const [rootA, rootB] = [await tmpRoot(t), await tmpRoot(t)];
    const a = contextFor(rootA, out.reporter, () => Date.UTC(2026, 0, 1));
    const b = contextFor(rootB, out.reporter, () => Date.UTC(2026, 0, 1));
    const aResolving = gate();
    const bBuilding = gate();
    const aDone = gate();

    const runA = recordRun(a, 'deploy', 'main', async (ctx) => {
      await ctx.reporter.step('resolve', 'main', async () => {
        aResolving.open();
        await bBuilding.wait; // B starts and is in its build while A resolves
      });
      ctx.reporter.info('a: resolved');
      await ctx.reporter.step('activate', 'a-dir', async () => undefined);
      aDone.open();
      return { sha: SHA_A, deployment: 'a-dir' };
    });
    const runB = recordRun(b, 'deploy', 'next', async (ctx) => {
      await aResolving.wait;
      await ctx.reporter.step('build', '1 command(s)', async () => {
        ctx.reporter.childOutput('b: build output\n');
        bBuilding.open();
        await aDone.wait; // A finishes while B builds
      });
      ctx.reporter.warn('b: warned', 'b: hint');
      await ctx.reporter.step('health', 'check', async () => {
        throw new Error('unhealthy');
      }).catch(() => undefined);
      throw new HealthCheckFailedError('b-dir', 'unhealthy', 'a-dir', 'journalctl');
    });

    // B may fail before A's history line is written: its rejection must have a handler by then.
    const bFails = assert.rejects(runB, HealthCheckFailedError);
    assert.deepEqual(await runA, { sha: SHA_A, deployment: 'a-dir' });
    await bFails;

    const [historyA, historyB] = [await readHistory(a.layout), await readHistory(b.layout)];
    assert.equal(historyA.length, 1);
    assert.equal(historyB.length, 1);
    const [ha, hb] = [historyA[0]!, historyB[0]!];
    assert.deepEqual(ha.steps.map((s) => [s.step, s.ok]), [['resolve', true], ['activate', true]]);
    assert.deepEqual([ha.outcome, ha.sha, ha.deployment, ha.ref, ha.error], ['success', SHA_A, 'a-dir', 'main', null]);
    assert.deepEqual(hb.steps.map((s) => [s.step, s.ok]), [['build', true], ['health', false]]);
    assert.deepEqual([hb.outcome, hb.sha, hb.error?.code, hb.ref], ['rolled-back', null, 'HEALTH_CHECK_FAILED', 'next']);

    const logA = await readFile(ha.log, 'utf8');
    const logB = await readFile(hb.log, 'utf8');
    assert.match(logA, /^✓ resolve +main \d+\.\d\ds\na: resolved\n✓ activate +a-dir \d+\.\d\ds\n$/);
    assert.match(logB, /^b: build output\n✓ build +1 command\(s\) \d+\.\d\ds\nwarning: b: warned\n  hint: b: hint\n✗ health +check \d+\.\d\ds\nerror: b-dir is unhealthy: .*\n$/);
    // The terminal shows both, in the order they happened.
    const shown = out.text();
    assert.ok(shown.indexOf('b: build output') < shown.indexOf('✓ resolve'), shown);
    assert.ok(shown.indexOf('✓ resolve') < shown.indexOf('✓ activate') && shown.indexOf('✓ activate') < shown.indexOf('✓ build'), shown);
  });

  test('two runs of one app in the same second get their own ids and logs', async (t) => {
    const out = terminal();
    const root = await tmpRoot(t);
    const ctx = contextFor(root, out.reporter, () => Date.UTC(2026, 0, 1));
    const first = gate();
    const runs = [1, 2].map((n) =>
      recordRun(ctx, 'deploy', undefined, async (c) => {
        c.reporter.info(`run ${n}`);
        if (n === 1) await first.wait;
        else first.open();
        return { sha: SHA_A, deployment: `d${n}` };
      }));
    await Promise.all(runs);
    const history = await readHistory(ctx.layout);
    assert.equal(history.length, 2);
    assert.notEqual(history[0]!.runId, history[1]!.runId);
    for (const h of history) assert.equal(await readFile(h.log, 'utf8'), `run ${h.deployment!.slice(1)}\n`);
  });
});
