// `mfd rollback [TARGET]`: activate the previous good deployment (by recorded history) or the named
// one, mark the deployment it leaves rolled-back so it is not picked again, and restart the unit.
import { activate, readActive } from './activate.ts';
import type { Context } from './context.ts';
import { HealthFailure, RollbackFailedError } from './errors.ts';
import { recover, reportRecovery } from './recover.ts';
import { appendActivation, listDeployments, readActivations, writeRecord } from './record.ts';
import { planRollback } from './rollback-plan.ts';
import { withDeployLock } from './locked.ts';
import { recordRun } from './history.ts';
import { bringUp, logsHint, markHealthy } from './restart.ts';

export interface RollbackResult {
  from: string | undefined;
  to: string;
  deployment: string;
  sha: string;
}

export async function rollback(ctx: Context, target: string | undefined): Promise<RollbackResult> {
  return recordRun(ctx, 'rollback', target, () =>
    withDeployLock(ctx, 'rollback', target, () => rollbackLocked(ctx, target), { wait: ctx.options.wait || ctx.config.lock.wait }),
  );
}

async function rollbackLocked(ctx: Context, target: string | undefined): Promise<RollbackResult> {
  const { layout, reporter } = ctx;
  const warn = (m: string, h?: string) => reporter.warn(m, h);
  reportRecovery(ctx, await recover(layout, ctx.now, warn));
  const [deployments, activations, active] = await Promise.all([
    listDeployments(layout),
    readActivations(layout, warn),
    readActive(layout),
  ]);
  const chosen = planRollback(deployments, activations, active, target);

  await reporter.step('activate', chosen.name, () => activate(layout, chosen.name));
  const at = new Date(ctx.now()).toISOString();
  await appendActivation(layout, { name: chosen.name, sha: chosen.sha, at, command: 'rollback' });
  const left = deployments.find((d) => d.name === active);
  if (left) {
    await writeRecord(layout, {
      name: left.name, sha: left.sha, ref: left.record?.ref ?? left.sha, fingerprint: left.record?.fingerprint ?? '',
      createdAt: left.record?.createdAt ?? new Date(left.createdAt * 1000).toISOString(), updatedAt: at,
      state: 'rolled-back', error: `rolled back to ${chosen.sha}`,
    });
  }

  const failure = await bringUp(ctx, chosen.name);
  if (failure) {
    const cause = failure.kind === 'restart' ? failure.error : new HealthFailure(failure.detail, logsHint(ctx));
    throw new RollbackFailedError(chosen.sha, cause);
  }
  if (ctx.config.systemd.unit || ctx.config.health) await markHealthy(ctx, chosen.name);
  reporter.info(`rolled back to ${chosen.sha} (${chosen.name})`);
  return { from: active, to: chosen.name, deployment: chosen.name, sha: chosen.sha };
}
