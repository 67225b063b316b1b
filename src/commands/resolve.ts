// `mfd resolve [REF]`: print the full sha REF resolves to, without deploying. A short sha or REF~N
// fetches history into the cache, so Ctrl-C or SIGTERM cuts the transfer and ends it cleanly.
import type { Context } from '../context.ts';
import type { Command } from './command.ts';
import { throwIfInterrupted } from '../errors/index.ts';
import { lockRequest, withCacheLock } from '../lock/policy.ts';
import { remoteOf } from '../git/remote.ts';
import { startListing } from '../git/prefetch.ts';
import { connect } from '../git/transport.ts';

export async function resolveCommand(ctx: Context, args: string[]): Promise<void> {
  const ref = args[0];
  const { config, layout } = ctx;
  // The listing is asked for first, and isomorphic-git loaded while the server answers.
  const conn = connect({ ...remoteOf(config), signal: ctx.signal });
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
    .catch((error: unknown) => {
      // A transfer cut by the signal fails as a network error: the interruption is the outcome.
      // What it was writing is gone already (pack-receive.ts removes its temp pack; the lock is released).
      throwIfInterrupted(ctx.signal, `while resolving ${ref ?? config.repo.branch ?? 'HEAD'}`);
      throw error;
    })
    .finally(() => conn.discard());
  ctx.reporter.result([resolved.sha], { ok: true, command: 'resolve', ref: ref ?? resolved.ref, sha: resolved.sha });
}

export const RESOLVE: Command = {
  name: 'resolve',
  args: '[REF]',
  summary: 'print the full sha REF resolves to, without deploying',
  flags: {},
  stopsCleanly: true,
  run: resolveCommand,
};
