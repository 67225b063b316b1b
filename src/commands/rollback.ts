// `mfd rollback [TARGET]`: back to the previous good deployment, or to the named sha / short sha.
import type { Context } from '../context.ts';
import type { Command } from './command.ts';
import { rollback } from '../run/rollback.ts';

export async function rollbackCommand(ctx: Context, args: string[]): Promise<void> {
  const result = await rollback(ctx, args[0]);
  ctx.reporter.result([`${result.sha} (active)`], { ok: true, command: 'rollback', ...result });
}

export const ROLLBACK: Command = {
  name: 'rollback',
  args: '[SHA]',
  summary: 'go back to the previous good deployment, or to the named one',
  flags: { wait: { type: 'boolean', description: 'wait for a held lock instead of failing' } },
  stopsCleanly: true,
  decide: (flags) => ({ wait: !!flags.wait }),
  run: rollbackCommand,
};
