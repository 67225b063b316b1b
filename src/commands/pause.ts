// `mfd pause [--reason TEXT]`: hold continuous deployment (the loop of `mfd watch` / `mfd serve`
// deploys nothing by itself until `mfd resume`); manual deploys and rollbacks still work.
import type { Context } from '../context.ts';
import { readPause, writePause, type PauseRecord } from '../state/pause.ts';
import type { Command } from './command.ts';

export async function pauseCommand(ctx: Context, _args: string[], flags: Record<string, string | boolean | undefined>): Promise<void> {
  const reason = typeof flags.reason === 'string' && flags.reason.trim() ? flags.reason.trim() : null;
  const before = await readPause(ctx.layout);
  const record: PauseRecord = { user: ctx.identity.user, host: ctx.identity.host, at: new Date(ctx.now()).toISOString(), reason };
  await writePause(ctx.layout, record);
  const was = before.paused && 'record' in before ? ` (it was paused by ${before.record.user}@${before.record.host} since ${before.record.at})` : '';
  ctx.reporter.result(
    [`paused continuous deployment${reason ? `: ${reason}` : ''}${was}; manual deploys still work; "mfd resume" releases it`],
    { ok: true, command: 'pause', paused: record },
  );
}

export const PAUSE: Command = {
  name: 'pause',
  args: '',
  summary: 'hold continuous deployment (watch, serve); manual deploys still work',
  flags: { reason: { type: 'string', description: 'why, shown by "mfd status"', value: 'TEXT' } },
  run: pauseCommand,
};
