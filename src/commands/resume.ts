// `mfd resume`: release the hold of `mfd pause`; the loop's next poll or webhook deploys again.
import type { Context } from '../context.ts';
import { readPause, removePause } from '../state/pause.ts';
import type { Command } from './command.ts';

export async function resumeCommand(ctx: Context): Promise<void> {
  const before = await readPause(ctx.layout);
  const removed = await removePause(ctx.layout);
  const who = before.paused && 'record' in before ? ` (paused by ${before.record.user}@${before.record.host} since ${before.record.at})` : '';
  ctx.reporter.result(
    [removed ? `resumed continuous deployment${who}` : 'continuous deployment was not paused'],
    { ok: true, command: 'resume', resumed: removed },
  );
}

export const RESUME: Command = {
  name: 'resume',
  args: '',
  summary: 'release the hold of "mfd pause"',
  flags: {},
  run: resumeCommand,
};
