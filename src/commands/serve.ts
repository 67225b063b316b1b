// `mfd serve`: the webhook server in front of the app's deploy loop (cd/), plus a poll every
// [serve] poll as a safety net (forges never redeliver a failed delivery). It runs until SIGTERM /
// SIGINT, then takes no more deliveries, lets a deploy under way finish (within a grace), and exits 0.
import type { Context } from '../context.ts';
import { readWebhookSecret } from '../config/serve.ts';
import { interruptionOf, ServeListenError, WebhookSecretMissingError } from '../errors/index.ts';
import { formatDuration } from '../errors/duration.ts';
import type { LevelLog } from '../cd/log.ts';
import type { Command } from './command.ts';

/** How long a deploy under way may go on after SIGTERM; systemd's own stop timeout is 90s. */
export const SERVE_STOP_GRACE_MS = 60_000;

export async function serveCommand(ctx: Context): Promise<void> {
  // Loaded when serve runs: `mfd --help` reads this file and must not compile isomorphic-git, and
  // only dist/mfd-main.js holds them (scripts/build.mjs, FULL_COMMANDS).
  const [{ createAppLoop }, { runPoller }, { redactUrl }, { startWebhookServer }, { isLoopback, watchedRef }] = await Promise.all([
    import('../cd/app-loop.ts'),
    import('../cd/poller.ts'),
    import('../git/git.ts'),
    import('../serve/server.ts'),
    import('../serve/watch.ts'),
  ]);
  const [{ describeSkip }, { LiveLog, LiveRuns }, { pageAccessOf }, { statusRoutes }] = await Promise.all([
    import('../cd/cycle.ts'),
    import('../serve/events.ts'),
    import('../serve/page-access.ts'),
    import('../serve/page-routes.ts'),
  ]);
  const { config } = ctx;
  // The loop's runs report to this log: the status page hears their events through it.
  const live = new LiveRuns({ now: ctx.now });
  const log: LevelLog = new LiveLog((line) => ctx.reporter.info(line), live);
  const secret = await readWebhookSecret(config.serve, { file: config.file, env: ctx.env, warn: (m) => log.warn(m) });
  if (!secret) throw new WebhookSecretMissingError(config.file);
  const watch = { ref: await watchedRef(ctx), repository: config.serve.repository ?? config.repo.url };
  // The Context's environment has no secret variable (context.ts): no build command or restart sees the webhook secret.
  const app = createAppLoop(ctx, log);
  const { host, port } = config.serve.listen;
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const access = await pageAccessOf(config.serve, { file: config.file, env: ctx.env, warn: (m) => log.warn(m) });
  const latest = () => {
    const outcome = app.latest();
    return outcome && { kind: outcome.kind, text: describeSkip(outcome) };
  };
  const page = statusRoutes({ access, live, layout: ctx.layout, status: { ctx, branch: watch.ref, live: () => live.run, latest } });
  const server = await startWebhookServer({ listen: config.serve.listen, secret, maxBodyBytes: config.serve.maxBodyBytes, watch, loop: app.loop, log, page }).catch(
    (error: NodeJS.ErrnoException) => {
      throw new ServeListenError(address, error.code ?? String(error), error);
    },
  );
  if (!isLoopback(host)) {
    log.warn(`mfd serve listens on ${address}, beyond this host: deliveries arrive unencrypted unless a TLS proxy is in front`, 'put Caddy (systemd/Caddyfile) in front and listen on 127.0.0.1');
  }
  if (access.off) log.info(access.off);
  else if (!access.token && !isLoopback(host)) log.warn(`the status page on ${address} asks no token, and run logs can hold secrets`, 'set [serve] status_token_file');
  log.info(`serving webhooks on ${server.url}/webhook for ${watch.ref} of ${redactUrl(config.repo.url)}, health on ${server.url}/healthz${access.off ? '' : `, status page on ${server.url}/`}; polling every ${formatDuration(config.serve.pollMs)}`);
  const stopped = new Promise<void>((resolve) => (ctx.signal.aborted ? resolve() : ctx.signal.addEventListener('abort', () => resolve(), { once: true })));
  try {
    // The safety net. Its first poll is at start: a push made while serve was down deploys now.
    await runPoller({
      intervalMs: config.serve.pollMs,
      signal: ctx.signal,
      log: (level, message) => log.line(level, message),
      poll: async () => {
        app.loop.poke({ kind: 'poll' });
        // A signal ends the wait for a deploy under way: the grace below is what it gets.
        await Promise.race([app.loop.idle(), stopped]);
        // As mfd watch backs off: after the world's failures and crashes, not after a commit's own.
        return app.failed();
      },
    });
  } finally {
    // Only a signal ends the poller; should anything else, the server must not keep the process alive.
    const interruption = interruptionOf(ctx.signal);
    const signal = interruption?.signal ?? 'SIGTERM';
    log.info(`${signal}: no more deliveries or polls; ${app.loop.busy ? `letting the deploy under way finish (up to ${formatDuration(SERVE_STOP_GRACE_MS)}; ${signal} again stops it now)` : 'nothing under way'}`);
    // The loop's stop begins before the server closes, which takes a turn of the event loop: from
    // here no delivery starts or queues a run (one still arriving is answered 503).
    const loopStopped = app.loop.stop(SERVE_STOP_GRACE_MS, { signal, ...(interruption ? { hurry: interruption.hurry } : {}) });
    await server.close();
    await loopStopped;
  }
  log.info('stopped');
}

export const SERVE: Command = {
  name: 'serve',
  args: '',
  summary: 'deploy on push webhooks received on [serve] listen, polling every [serve] poll as a safety net',
  flags: {},
  // Its runs change the app root: a signal must let them end cleanly, never cut them off.
  stopsCleanly: true,
  run: serveCommand,
};
