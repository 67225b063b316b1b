// `mfd rollback [TARGET]`: back to the previous good deployment, or to the named sha / short sha.
import type { Context } from '../context.ts';
import { rollback } from '../run/rollback.ts';

export async function rollbackCommand(ctx: Context, args: string[]): Promise<void> {
  const result = await rollback(ctx, args[0]);
  ctx.reporter.result([`${result.sha} (active)`], { ok: true, command: 'rollback', ...result });
}
