// `mfd rollback [TARGET]`: activate the previous good deployment (by recorded history) or the named
// one, mark the good deployment it leaves rolled-back so it is not picked again (a failed one stays
// failed), and restart the unit.
import { activate, readActive } from '../steps/activate.ts';
import type { Context } from '../context.ts';
import { HealthFailure, InterruptedError, interruptionOf, RollbackFailedError, throwIfInterrupted } from '../errors/index.ts';
import { recover, reportRecovery } from './recover.ts';
import { isGood, listDeployments, readActivations, writeRecord } from '../state/record.ts';
import { bestEffort } from '../state/best-effort.ts';
import { planRollback } from '../steps/rollback-plan.ts';
import { lockRequest, planLocks, withDeployLock } from '../lock/policy.ts';
import { recordRun } from './record-run.ts';
import { bringUp, logsHint, markHealthy, recordActivation, requireListeningSocket } from './restart.ts';
import { noteRolledBack } from './quarantine-mark.ts';

export interface RollbackResult {
  from: string | undefined;
  to: string;
  deployment: string;
  sha: string;
}

export async function rollback(ctx: Context, target: string | undefined): Promise<RollbackResult> {
  return recordRun(ctx, 'rollback', target, (ctx) =>
    withDeployLock(planLocks(ctx.layout, ctx.config.lock), { ...ctx.config.lock, wait: ctx.wait }, lockRequest(ctx, 'rollback', target), () => rollbackLocked(ctx, target)),
  );
}

async function rollbackLocked(ctx: Context, target: string | undefined): Promise<RollbackResult> {
  const { layout, reporter } = ctx;
  const warn = (m: string, h?: string) => reporter.warn(m, h);
  reportRecovery(ctx, await recover(layout, ctx.now, ctx.identity.pid, warn));
  const [deployments, activations, active] = await Promise.all([
    listDeployments(layout, { now: ctx.now(), onWarning: warn }),
    readActivations(layout, warn),
    readActive(layout),
  ]);
  const chosen = planRollback(deployments, activations, active, target);

  const at = new Date(ctx.now()).toISOString();
  await requireListeningSocket(ctx, 'active is untouched');
  // The test hook's "rollback-planned" pauses as this step starts: the guard then sees a signal sent meanwhile.
  await reporter.step('activate', chosen.name, async () => {
    await activate(layout, chosen.name);
    await recordActivation(ctx, { name: chosen.name, sha: chosen.sha, at, command: 'rollback' });
  }, { guard: () => throwIfInterrupted(ctx.signal, 'before activation; active is untouched') });
  const left = deployments.find((d) => d.name === active);
  if (left) {
    // A label only (keeps a plain rollback from picking it again): no reason to fail a rollback
    // that is done. Only over a good one: a failed record is the truth of what happened (its error
    // stays), and one that failed validation, labelled rolled-back, would become prunable, and the
    // next deploy would remove a directory mfd said it would not touch.
    if (isGood(left)) await bestEffort(reporter, `could not mark ${left.name} rolled back`, 'a later plain "mfd rollback" could pick it: name the target (mfd rollback <sha>)', () =>
      writeRecord(layout, {
        name: left.name, sha: left.sha, ref: left.record?.ref ?? left.sha, fingerprint: left.record?.fingerprint ?? '',
        createdAt: left.record?.createdAt ?? new Date(left.createdAt * 1000).toISOString(), updatedAt: at,
        state: 'rolled-back', error: `rolled back to ${chosen.sha}`,
      }));
    // Not the same sha: rolling back to another build of the commit leaves nothing to keep away.
    if (left.sha !== chosen.sha) await noteRolledBack(ctx, left.sha, chosen.sha);
  }

  // As in deploy: once active has moved, the restart and its checks run to the end whatever signal comes.
  const failure = await bringUp({ ...ctx, signal: new AbortController().signal }, chosen.name);
  if (failure) {
    const cause = failure.kind === 'restart' ? failure.error : new HealthFailure(failure.detail, logsHint(ctx));
    throw new RollbackFailedError(chosen.sha, cause);
  }
  if (ctx.config.systemd.unit || ctx.config.health) await markHealthy(ctx, chosen.name);
  reporter.info(`rolled back to ${chosen.sha} (${chosen.name})`);
  const interruption = interruptionOf(ctx.signal);
  if (interruption) {
    throw new InterruptedError(interruption.signal, `after activation: the rollback finished, ${chosen.name} (${chosen.sha}) is active and came up`, { sha: chosen.sha, deployment: chosen.name });
  }
  return { from: active, to: chosen.name, deployment: chosen.name, sha: chosen.sha };
}
