// `mfd resolve [REF]`: print the full sha REF resolves to, without deploying.
import type { Context } from '../context.ts';
import type { Command } from './command.ts';
import { lockRequest, withCacheLock } from '../lock/policy.ts';
import { remoteOf } from '../git/remote.ts';

export async function resolveCommand(ctx: Context, args: string[]): Promise<void> {
  const git = await import('../git/git.ts');
  const ref = args[0];
  const { config, layout } = ctx;
  const resolved = await git.resolveRef({
    remote: remoteOf(config),
    gitdir: layout.repo,
    ref,
    branch: config.repo.branch,
    lock: (work) => withCacheLock(layout, config.lock.staleMs, lockRequest(ctx, 'resolve', ref), work),
  });
  ctx.reporter.result([resolved.sha], { ok: true, command: 'resolve', ref: ref ?? resolved.ref, sha: resolved.sha });
}

export const RESOLVE: Command = {
  name: 'resolve',
  args: '[REF]',
  summary: 'print the full sha REF resolves to, without deploying',
  flags: {},
  run: resolveCommand,
};
