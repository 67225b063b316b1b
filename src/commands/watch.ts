// `mfd watch`: continuous deployment by polling, in the foreground (a systemd service). Every
// [watch] interval it pokes the app's deploy loop (cd/); SIGTERM/SIGINT stop the polls, let a
// deploy under way finish (a second signal, or the grace period, stops it the way Ctrl-C does), exit 0.
// The deploy loop is imported when the command runs: only dist/mfd-main.js holds it.
import type { Context } from '../context.ts';
import { interruptionOf } from '../errors/index.ts';
import { formatDuration } from '../errors/duration.ts';
import type { Command } from './command.ts';

/** How long a deploy under way may go on after SIGTERM; systemd's own stop timeout is 90s. */
export const WATCH_STOP_GRACE_MS = 60_000;

export async function watchCommand(ctx: Context): Promise<void> {
  // Loaded by the command, not with the module: `mfd help` loads every command and must not load isomorphic-git.
  const [{ createAppLoop }, { LevelLog }, { runPoller }, { redactUrl }] = await Promise.all([
    import('../cd/app-loop.ts'),
    import('../cd/log.ts'),
    import('../cd/poller.ts'),
    import('../git/git.ts'),
  ]);
  const log = new LevelLog((line) => ctx.reporter.info(line));
  const app = createAppLoop(ctx, log);
  const { config } = ctx;
  log.info(`watching ${redactUrl(config.repo.url)} ${config.repo.branch ? `branch ${config.repo.branch}` : "(the remote's HEAD)"} every ${formatDuration(config.watch.intervalMs)}`);
  await runPoller({
    intervalMs: config.watch.intervalMs,
    signal: ctx.signal,
    log: (level, message) => log.line(level, message),
    poll: async () => {
      app.loop.poke({ kind: 'poll' });
      // A signal ends the wait, not the run: the stop below decides how long the run may go on.
      await idleOrAborted(app.loop.idle(), ctx.signal);
      // The world's failures and crashes back off until they are over; a commit's own does not.
      return app.failed();
    },
  });
  // Only a signal ends the poller (cli.ts aborts ctx.signal with the Interruption).
  const interruption = interruptionOf(ctx.signal);
  const signal = interruption?.signal ?? 'SIGTERM';
  log.info(`${signal}: no more polls; ${app.loop.busy ? `letting the deploy under way finish (up to ${formatDuration(WATCH_STOP_GRACE_MS)}; ${signal} again stops it now)` : 'nothing under way'}`);
  await app.loop.stop(WATCH_STOP_GRACE_MS, { signal, ...(interruption ? { hurry: interruption.hurry } : {}) });
  log.info('stopped');
}

/** Resolves with `idle` or when `signal` aborts, and leaves no listener behind (a watch polls for months). */
async function idleOrAborted(idle: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([idle, new Promise<void>((resolve) => signal.addEventListener('abort', (onAbort = () => resolve()), { once: true }))]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

export const WATCH: Command = {
  name: 'watch',
  args: '',
  summary: 'deploy the branch head by itself: poll every [watch] interval, in the foreground',
  flags: {},
  // Its runs change the app root: a signal must let them end cleanly, never cut them off.
  stopsCleanly: true,
  run: watchCommand,
};
