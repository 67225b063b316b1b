// `mfd rollback [TARGET]`: back to the previous good deployment, or to the named sha / short sha.
// The rollback path is imported when the command runs: only dist/mfd-main.js holds it.
import type { Context } from '../context.ts';
import type { Command } from './command.ts';

export async function rollbackCommand(ctx: Context, args: string[]): Promise<void> {
  const { rollback } = await import('../run/rollback.ts');
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
