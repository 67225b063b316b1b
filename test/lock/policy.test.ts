import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/config.ts';
import type { Context } from '../../src/context.ts';
import { LockHeldError } from '../../src/errors/index.ts';
import { layoutOf } from '../../src/state/layout.ts';
import { acquireLock } from '../../src/lock/file.ts';
import { withDeployLock } from '../../src/lock/policy.ts';
import { Reporter } from '../../src/sys/output.ts';
import { tmpRoot } from '../helpers/repo.ts';

function contextFor(root: string, lock: string, signal: AbortSignal): Context {
  const file = join(root, 'mfd.toml');
  const { config } = parseConfig(`[repo]\nurl = "http://127.0.0.1:1/app.git"\n[build]\ncommands = []\n[lock]\n${lock}\n`, { file });
  const sink = { write: () => undefined };
  const reporter = new Reporter({ mode: 'plain', color: false, verbose: false, stdout: sink, stderr: sink });
  return { root, layout: layoutOf(root), config: { ...config, repo: { ...config.repo } }, reporter, now: () => Date.now(), signal, options: { wait: true, force: false } };
}

describe('locked', () => {
  test('waiting for a held lock through many retries leaves no abort listener behind', async (t) => {
    const root = await tmpRoot(t);
    const controller = new AbortController();
    const ctx = contextFor(root, 'retry_interval = "10ms"\nretry_attempts = 15', controller.signal);
    const holder = await acquireLock({ name: 'app', file: ctx.layout.lockFile }, { command: 'deploy', ref: undefined, staleMs: 60_000, now: Date.now, env: {} });
    t.after(() => holder.release());
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    await assert.rejects(withDeployLock(ctx, 'deploy', undefined, async () => 'never', { wait: true }), LockHeldError);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((w) => w === 'MaxListenersExceededWarning'), []);
  });
});
