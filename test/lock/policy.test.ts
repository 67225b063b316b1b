import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/config.ts';
import { LockHeldError } from '../../src/errors/index.ts';
import { layoutOf } from '../../src/state/layout.ts';
import { acquireLock } from '../../src/lock/file.ts';
import { lockRequest, planLocks, withDeployLock } from '../../src/lock/policy.ts';
import { Reporter } from '../../src/sys/output.ts';
import { tmpRoot } from '../helpers/repo.ts';

function contextFor(root: string, lock: string, signal: AbortSignal) {
  const file = join(root, 'mfd.toml');
  const { config } = parseConfig(`[repo]\nurl = "http://127.0.0.1:1/app.git"\n[build]\ncommands = []\n[lock]\n${lock}\n`, { file });
  const sink = { write: () => undefined };
  const reporter = new Reporter({ mode: 'plain', color: false, verbose: false, stdout: sink, stderr: sink });
  const identity = { user: 'alice', host: 'web1', pid: process.pid };
  return { root, layout: layoutOf(root, process.pid), config, reporter, now: () => Date.now(), signal, identity };
}

describe('locked', () => {
  test('waiting for a held lock through many retries leaves no abort listener behind', async (t) => {
    const root = await tmpRoot(t);
    const controller = new AbortController();
    const ctx = contextFor(root, 'retry_interval = "10ms"\nretry_attempts = 15', controller.signal);
    const holder = await acquireLock({ name: 'app', file: ctx.layout.lockFile }, { command: 'deploy', ref: undefined, staleMs: 60_000, now: Date.now, identity: ctx.identity });
    t.after(() => holder.release());
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    await assert.rejects(withDeployLock(planLocks(ctx.layout, ctx.config.lock), { ...ctx.config.lock, wait: true }, lockRequest(ctx, 'deploy', undefined), async () => 'never'), LockHeldError);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((w) => w === 'MaxListenersExceededWarning'), []);
  });
});
