// When deploys and rollbacks mark a commit quarantined (state/quarantine.ts) and when a manual
// deploy clears the mark. By the class of the error, as outcome.ts does: a commit's own fault
// (its build, its restart, its health, its tree) marks it; the world's (network, lock, disk) never.
import type { Context } from '../context.ts';
import {
  BuildFailedError, HealthCheckFailedError, RestartFailedError, RestartRolledBackError, ServerNeedsAttentionError, TreeInvalidError,
} from '../errors/index.ts';
import { bestEffort } from '../state/best-effort.ts';
import { clearQuarantined, markQuarantined, type QuarantineMark } from '../state/quarantine.ts';

/** 'rolled-back' when the failure put the previous deployment back; undefined when it is not the commit's fault. */
export function quarantineOutcome(error: unknown): QuarantineMark['outcome'] | undefined {
  if (error instanceof HealthCheckFailedError || error instanceof RestartRolledBackError) return 'rolled-back';
  if (error instanceof BuildFailedError || error instanceof RestartFailedError || error instanceof ServerNeedsAttentionError || error instanceof TreeInvalidError) return 'failed';
  return undefined;
}

const CONSEQUENCE = 'the deploy loop may deploy this commit again by itself';

/** Call holding the deploy lock, with the error that ended the deploy of `sha`. */
export async function noteDeployFailure(ctx: Context, sha: string, error: unknown): Promise<void> {
  const outcome = quarantineOutcome(error);
  if (!outcome) return;
  const code = (error as { code?: string }).code ?? 'ERROR';
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  await mark(ctx, sha, { reason: `${code}: ${message}`, outcome, at: new Date(ctx.now()).toISOString(), user: ctx.identity.user });
}

/** A rollback left `sha` (for `to`): the loop must not bring it back at the next poll. */
export async function noteRolledBack(ctx: Context, sha: string, to: string): Promise<void> {
  await mark(ctx, sha, { reason: `rolled back to ${to}`, outcome: 'rolled-back', at: new Date(ctx.now()).toISOString(), user: ctx.identity.user });
}

/** A deploy typed by hand may deploy a quarantined commit, and then clears its mark. */
export async function releaseQuarantine(ctx: Context, sha: string): Promise<void> {
  const cleared = await bestEffort(ctx.reporter, `could not clear the quarantine mark of ${sha}`, 'the deploy loop will still skip this commit', () =>
    clearQuarantined(ctx.layout, sha));
  if (cleared) ctx.reporter.info(`cleared the quarantine mark of ${sha}: deployed by hand`);
}

async function mark(ctx: Context, sha: string, entry: QuarantineMark): Promise<void> {
  const done = await bestEffort(ctx.reporter, `could not quarantine ${sha}`, CONSEQUENCE, () =>
    markQuarantined(ctx.layout, sha, entry, (problem) => ctx.reporter.warn(`replaced an unreadable quarantine file (${problem}); its marks are lost`)).then(() => true));
  if (done) ctx.reporter.info(`quarantined ${sha} (${entry.outcome}): the deploy loop will not deploy it again by itself; "mfd deploy ${sha}" still can`);
}
