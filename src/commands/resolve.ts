// `mfd resolve [REF]`: print the full sha REF resolves to, without deploying. A short sha or REF~N
// fetches history into the cache, so Ctrl-C or SIGTERM cuts the transfer and ends it cleanly.
// The git path is imported when the command runs: only dist/mfd-main.js holds it.
import type { Context } from '../context.ts';
import type { Command } from './command.ts';
import { throwIfInterrupted } from '../errors/index.ts';

export async function resolveCommand(ctx: Context, args: string[]): Promise<void> {
  const ref = args[0];
  const { config, layout } = ctx;
  const [{ lockRequest, withCacheLock }, { remoteOf }, { startListing }, { connect }] = await Promise.all([
    import('../lock/policy.ts'),
    import('../git/remote.ts'),
    import('../git/prefetch.ts'),
    import('../git/transport.ts'),
  ]);
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
  // It runs no commands: the transfer is cut at once, and its temp pack removed.
  stopping: 'stopping: cutting the transfer',
  run: resolveCommand,
};
