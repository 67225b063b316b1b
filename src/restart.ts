// The restart step after an activation: restart the unit; if that fails, put the previous
// deployment back, restart it, mark the new one failed and say exactly where the server stands.
// The health-check issue (#5) hooks in here: same shape, one more check after the restart.
import { activate } from './activate.ts';
import type { Context } from './context.ts';
import { parseDeploymentName } from './deployment.ts';
import { RestartFailedError, RestartRolledBackError } from './errors.ts';
import { appendActivation, readRecords, writeRecord } from './record.ts';
import { restartUnit } from './service.ts';

export async function restartActive(
  ctx: Context,
  opts: { name: string; previous: string | undefined; sha: string },
): Promise<void> {
  const { unit, scope } = ctx.config.systemd;
  if (!unit) {
    ctx.reporter.info('no [systemd] unit configured: nothing to restart');
    return;
  }
  try {
    await ctx.reporter.step('restart', unit, () => restartUnit({ unit, scope, signal: ctx.signal }));
  } catch (error) {
    if (!(error instanceof RestartFailedError)) throw error;
    await markFailed(ctx, opts.name, error.message);
    const previous = opts.previous && opts.previous !== opts.name ? parseDeploymentName(opts.previous) : undefined;
    if (!previous) throw new RestartRolledBackError(error, undefined, false);
    await ctx.reporter.step('rollback', previous.name, () => activate(ctx.layout, previous.name));
    await appendActivation(ctx.layout, {
      name: previous.name, sha: previous.sha, at: new Date(ctx.now()).toISOString(), command: 'auto-rollback',
    });
    const ok = await ctx.reporter
      .step('restart', unit, () => restartUnit({ unit, scope, signal: ctx.signal }))
      .then(() => true, () => false);
    throw new RestartRolledBackError(error, { name: previous.name, sha: previous.sha }, ok);
  }
}

async function markFailed(ctx: Context, name: string, reason: string): Promise<void> {
  const record = (await readRecords(ctx.layout)).get(name);
  const parsed = parseDeploymentName(name)!;
  const now = new Date(ctx.now()).toISOString();
  await writeRecord(ctx.layout, {
    name, sha: parsed.sha, ref: record?.ref ?? parsed.sha, fingerprint: record?.fingerprint ?? '',
    createdAt: record?.createdAt ?? now, updatedAt: now, state: 'failed', error: reason,
  });
}
