// After an activation: restart the unit, check that it really restarted and is healthy; if not,
// put the previous deployment back, bring that up and verify it, and say exactly where the server
// stands: rolled back (exit 6 or 7), or nothing healthy left (exit 8).
import { activate } from '../steps/activate.ts';
import type { Context } from '../context.ts';
import { parseDeploymentName } from '../state/deployment.ts';
import { HealthCheckFailedError, RestartFailedError, RestartRolledBackError, ServerNeedsAttentionError } from '../errors/index.ts';
import { runHealthCheck } from '../steps/health.ts';
import { appendActivation, readRecords, writeRecord, type Activation } from '../state/record.ts';
import { bestEffort } from '../state/best-effort.ts';
import { journalctlCommand, restartUnit, unitStatus } from '../steps/service.ts';
import { redact } from '../errors/redact.ts';

export type BringUpFailure = { kind: 'restart'; error: RestartFailedError } | { kind: 'health'; detail: string };

/** Restarts the unit (if any) onto `name` and verifies it. Returns why it failed, or undefined. */
export async function bringUp(ctx: Context, name: string): Promise<BringUpFailure | undefined> {
  const { unit, scope } = ctx.config.systemd;
  if (unit) {
    const target = { unit, scope, env: ctx.env, signal: ctx.signal };
    const before = await unitStatus(target).catch(() => undefined);
    try {
      await ctx.reporter.step('restart', unit, () => restartUnit(target));
    } catch (error) {
      if (error instanceof RestartFailedError) return { kind: 'restart', error };
      throw error;
    }
    const after = await unitStatus(target).catch(() => undefined);
    if (after && !['active', 'activating', 'reloading'].includes(after.activeState)) {
      return { kind: 'health', detail: `unit ${unit} is ${after.activeState} after the restart` };
    }
    // A restart that silently did not happen leaves the old main process running old code.
    if (before && after && before.startedMonotonicUs > 0 && after.startedMonotonicUs <= before.startedMonotonicUs) {
      return { kind: 'health', detail: `unit ${unit} did not start a new main process (still pid ${after.mainPid})` };
    }
  } else {
    await ctx.reporter.skip('restart', 'no [systemd] unit configured: nothing to restart');
  }
  const health = ctx.config.health;
  if (health) {
    const result = await ctx.reporter
      .step('health', health.kind === 'http' ? redact(health.url) : health.command.join(' '), () =>
        runHealthCheck(health, { cwd: ctx.layout.deployment(name), env: ctx.env, signal: ctx.signal }).then((r) => {
          if (!r.ok) throw Object.assign(new Error(r.detail), { result: r });
          return r;
        }),
        (r) => `${r.detail} (attempt ${r.attempts})`,
      )
      .catch((error: { result?: { detail: string } }) => {
        if (error.result) return error.result;
        throw error;
      });
    if (!('ok' in result) || !result.ok) return { kind: 'health', detail: result.detail };
  } else {
    await ctx.reporter.skip('health');
  }
  return undefined;
}

export async function restartActive(ctx: Context, opts: { name: string; previous: string | undefined; sha: string }): Promise<void> {
  const failure = await bringUp(ctx, opts.name);
  if (!failure) {
    if (ctx.config.systemd.unit || ctx.config.health) await markHealthy(ctx, opts.name);
    return;
  }
  const logs = logsHint(ctx);
  const detail = failure.kind === 'restart' ? failure.error.message : failure.detail;
  await markFailed(ctx, opts.name, detail);
  const previous = opts.previous && opts.previous !== opts.name ? parseDeploymentName(opts.previous) : undefined;
  if (!previous) {
    if (failure.kind === 'restart') throw new RestartRolledBackError(failure.error, undefined, false);
    throw new HealthCheckFailedError(opts.name, detail, undefined, logs);
  }
  await ctx.reporter.step('rollback', previous.name, () => activate(ctx.layout, previous.name));
  await recordActivation(ctx, { name: previous.name, sha: previous.sha, at: new Date(ctx.now()).toISOString(), command: 'auto-rollback' });
  const again = await bringUp(ctx, previous.name);
  if (again) {
    throw new ServerNeedsAttentionError(opts.name, detail, previous.name, again.kind === 'restart' ? again.error.message : again.detail, logs);
  }
  if (failure.kind === 'restart') throw new RestartRolledBackError(failure.error, { name: previous.name, sha: previous.sha }, true);
  throw new HealthCheckFailedError(opts.name, detail, previous.sha, logs);
}

export function logsHint(ctx: Context): string {
  const { unit, scope } = ctx.config.systemd;
  return unit ? journalctlCommand(scope, unit) : 'the health check output above';
}

/**
 * Appends to activations.jsonl after a swap. Best effort: the swap is the real change and has
 * happened, so a full disk must not turn it into a failed run; what is lost is the order a later
 * plain `mfd rollback` follows, and the warning says to name the target instead.
 */
export async function recordActivation(ctx: Context, activation: Activation): Promise<void> {
  await bestEffort(ctx.reporter, `active points at ${activation.name}, but the activation is not recorded`,
    'a later plain "mfd rollback" may not know it: name the target (mfd rollback <sha>)', () => appendActivation(ctx.layout, activation));
}

/** Recorded once a deployment came up and passed its checks; Go mfd's directories stay adopted. A label: best effort. */
export async function markHealthy(ctx: Context, name: string): Promise<void> {
  await bestEffort(ctx.reporter, `could not mark ${name} healthy`, 'it is running all the same; "mfd ls" shows it as built', async () => {
    const record = (await readRecords(ctx.layout)).get(name);
    if (!record || record.state === 'healthy') return;
    await writeRecord(ctx.layout, { ...record, state: 'healthy', updatedAt: new Date(ctx.now()).toISOString() });
  });
}

/** Best effort too: a full disk must not keep the previous deployment from being put back. */
async function markFailed(ctx: Context, name: string, reason: string): Promise<void> {
  await bestEffort(ctx.reporter, `could not mark ${name} failed`, 'a rollback could pick it again: name the target (mfd rollback <sha>)', async () => {
    const record = (await readRecords(ctx.layout)).get(name);
    const parsed = parseDeploymentName(name)!;
    const now = new Date(ctx.now()).toISOString();
    await writeRecord(ctx.layout, {
      name, sha: parsed.sha, ref: record?.ref ?? parsed.sha, fingerprint: record?.fingerprint ?? '',
      createdAt: record?.createdAt ?? now, updatedAt: now, state: 'failed', error: reason,
    });
  });
}
