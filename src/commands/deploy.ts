// `mfd deploy [REF]`: deploy REF (default: the configured branch, else the remote's HEAD).
import type { Context } from '../context.ts';
import { UsageError } from '../errors/index.ts';
import type { Command } from './command.ts';
import { deploy } from '../run/deploy.ts';

export async function deployCommand(ctx: Context, args: string[]): Promise<void> {
  // TODO(#11): helper RUN's dry run (the plan, printed) goes here; until the merge a dry run is
  // refused rather than ignored, so --dry-run can never deploy for real.
  if (ctx.dryRun) throw new UsageError('--dry-run is not available in this build', 'run "mfd deploy" without it');
  const result = await deploy(ctx, args[0]);
  ctx.reporter.result([`${result.sha} (active)`], { ok: true, command: 'deploy', ...result });
}

export const DEPLOY: Command = {
  name: 'deploy',
  args: '[REF]',
  summary: "resolve, fetch, build, activate and restart REF (default: the remote's HEAD)",
  flags: {
    wait: { type: 'boolean', description: 'wait for a held lock instead of failing' },
    'dry-run': { type: 'boolean', description: 'print what the deploy would do, and change nothing' },
  },
  stopsCleanly: true,
  decide: (flags) => ({ wait: !!flags.wait, dryRun: !!flags['dry-run'] }),
  run: deployCommand,
};
