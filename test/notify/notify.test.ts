import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpRoot } from '../helpers/repo.ts';
import { heldFifo } from '../helpers/fifo.ts';
import { notifySubscriber, wanted } from '../../src/notify/notify.ts';
import type { NotifyConfig } from '../../src/config/notify.ts';

const config = (on: string[], command: string[] = ['true']): NotifyConfig => {
  const set = new Set(on.filter((o) => o !== 'manual') as ('failure' | 'success')[]);
  return { command, outcomes: set.size > 0 ? set : new Set(['failure', 'success']), manual: on.includes('manual'), timeoutMs: 5_000 };
};

describe('notify', () => {
  test('which runs it is told of: automatic ones by default, manual ones only with "manual", never a refused one', () => {
    assert.equal(wanted(config([]), 'success', 'poll'), true);
    assert.equal(wanted(config([]), 'rolled-back', 'webhook'), true);
    assert.equal(wanted(config([]), 'success', undefined), false);
    assert.equal(wanted(config([]), 'failed', 'manual'), false);
    assert.equal(wanted(config(['manual']), 'failed', undefined), true);
    assert.equal(wanted(config(['failure']), 'success', 'poll'), false);
    assert.equal(wanted(config(['failure']), 'interrupted', 'poll'), true);
    assert.equal(wanted(config(['success', 'manual']), 'needs-attention', undefined), false);
    assert.equal(wanted(config(['failure', 'success', 'manual']), 'refused', undefined), false);
  });

  test('an automatic run\'s end runs the command with its facts; a command that outlives its timeout is killed and reported', async (t) => {
    const root = await tmpRoot(t);
    const out = join(root, 'env.json');
    const script = `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env)); if (process.env.T_HANG) setInterval(() => {}, 1000);`;
    const reports: string[] = [];
    const subscriber = notifySubscriber({
      run: { id: 'r1', command: 'deploy', app: root, start: 0, ref: undefined, trigger: 'poll' },
      config: { ...config([], [process.execPath, '-e', script]), timeoutMs: 1_000 },
      env: { PATH: process.env.PATH, SECRET_COPY: 'hunter2', T_HANG: '1' }, secrets: ['hunter2'], runUrl: undefined,
      report: (m) => reports.push(m),
    });
    await subscriber({ type: 'resolved', ref: 'main', sha: 'c'.repeat(40) });
    await subscriber({ type: 'run-finished', outcome: 'rolled-back', sha: null, deployment: null, error: { code: 'HEALTH_FAILURE', message: 'unhealthy: http://u:hunter2@h/x' }, at: 3_000 });
    const seen = JSON.parse(await readFile(out, 'utf8')) as Record<string, string>;
    assert.deepEqual([seen.MFD_OUTCOME, seen.MFD_RESULT, seen.MFD_SHA, seen.MFD_REF, seen.MFD_TRIGGER, seen.MFD_RUN_URL], ['failure', 'rolled-back', 'c'.repeat(40), 'main', 'poll', '']);
    assert.equal(seen.MFD_MESSAGE, 'deploy rolled-back: unhealthy: http://***@h/x');
    assert.equal(seen.SECRET_COPY, undefined, 'a variable holding a secret\'s value is left out');
    assert.equal(reports.length, 1);
    assert.match(reports[0]!, /failed with timeout after 1000 ms/);
  });

  // Hang guard only: a subscriber that waits for the escaped process would never end the test.
  test('a command that hangs is ended at its timeout even when a process it left in a session of its own holds its output', { timeout: 60_000 }, async (t) => {
    const root = await tmpRoot(t);
    const fifo = heldFifo(t, root);
    const reports: string[] = [];
    // Both cats block until the test ends: the command itself (killed with its group at the
    // timeout) and the one `setsid` took out of that group, which keeps the command's stdout open.
    const subscriber = notifySubscriber({
      run: { id: 'r1', command: 'deploy', app: root, start: 0, ref: undefined, trigger: 'poll' },
      config: { ...config([], ['sh', '-c', `setsid cat ${fifo} & exec cat ${fifo}`]), timeoutMs: 1_000 },
      env: { PATH: process.env.PATH }, secrets: [], runUrl: undefined,
      report: (m) => reports.push(m),
    });
    await subscriber({ type: 'run-finished', outcome: 'failed', sha: null, deployment: null, error: { code: 'BUILD_FAILED', message: 'build failed' }, at: 1_000 });
    assert.equal(reports.length, 1);
    assert.match(reports[0]!, /failed with timeout after 1000 ms/);
  });

  test('a secret in the command\'s last line is masked whole, even where that line is cut', async (t) => {
    const root = await tmpRoot(t);
    const secret = 'hunter2-0123456789abcdef';
    // A script that read a token file itself and printed it (curl -v): the cut at 200 characters goes through it.
    await writeFile(join(root, 'token'), secret);
    const script = `console.error('x'.repeat(190) + require('fs').readFileSync('token', 'utf8')); process.exit(1)`;
    const reports: string[] = [];
    const subscriber = notifySubscriber({
      run: { id: 'r1', command: 'deploy', app: root, start: 0, ref: undefined, trigger: 'poll' },
      config: config([], [process.execPath, '-e', script]),
      env: { PATH: process.env.PATH }, secrets: [secret], runUrl: undefined,
      report: (m) => reports.push(m),
    });
    await subscriber({ type: 'run-finished', outcome: 'failed', sha: null, deployment: null, error: { code: 'BUILD_FAILED', message: 'build failed' }, at: 1_000 });
    assert.equal(reports.length, 1);
    assert.match(reports[0]!, /failed with exit status 1: x+\*\*\*/);
    assert.doesNotMatch(reports[0]!, new RegExp(secret.slice(0, 7)));
  });
});
