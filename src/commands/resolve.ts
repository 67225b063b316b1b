// `mfd resolve [REF]`: print the full sha REF resolves to, without deploying.
import type { Context } from '../context.ts';
import type { Command } from './command.ts';
import { lockRequest, withCacheLock } from '../lock/policy.ts';
import { remoteOf } from '../git/remote.ts';
import { startListing } from '../git/prefetch.ts';
import { connect } from '../git/transport.ts';

export async function resolveCommand(ctx: Context, args: string[]): Promise<void> {
  const ref = args[0];
  const { config, layout } = ctx;
  // The listing is asked for first, and isomorphic-git loaded while the server answers.
  const conn = connect(remoteOf(config));
  startListing(conn, ref ?? config.repo.branch);
  await conn.discoverySent();
  const resolved = await import('../git/git.ts')
    .then((git) => git.resolveRef({
      conn,
      gitdir: layout.repo,
      ref,
      branch: config.repo.branch,
      lock: (work) => withCacheLock(layout, config.lock.staleMs, lockRequest(ctx, 'resolve', ref), work),
    }))
    .finally(() => conn.discard());
  ctx.reporter.result([resolved.sha], { ok: true, command: 'resolve', ref: ref ?? resolved.ref, sha: resolved.sha });
}

export const RESOLVE: Command = {
  name: 'resolve',
  args: '[REF]',
  summary: 'print the full sha REF resolves to, without deploying',
  flags: {},
  run: resolveCommand,
};
