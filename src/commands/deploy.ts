// `mfd deploy [REF]`: deploy REF (default: the configured branch, else the remote's HEAD).
import type { Context } from '../context.ts';
import { deploy } from '../run/deploy.ts';

export async function deployCommand(ctx: Context, args: string[]): Promise<void> {
  const result = await deploy(ctx, args[0]);
  ctx.reporter.result([`${result.sha} (active)`], { ok: true, command: 'deploy', ...result });
}
