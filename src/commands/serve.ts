// `mfd serve`: the webhook server in front of the app's deploy loop, plus a poll every [serve] poll
// as a safety net (forges never redeliver a failed delivery). It runs until SIGTERM / SIGINT, then
// stops taking deliveries, lets a running deploy finish (within a grace), and exits 0.
import type { Context } from '../context.ts';
import { readWebhookSecret, WEBHOOK_SECRET_VAR } from '../config/serve.ts';
import { MfdError, ServeListenError, WebhookSecretMissingError } from '../errors/index.ts';
import { formatDuration } from '../errors/duration.ts';
import { DeployLoop } from '../cd/loop.ts';
import type { LastRun } from '../cd/trigger.ts';
import { deploy } from '../run/deploy.ts';
import { startWebhookServer } from '../serve/server.ts';
import { isLoopback, watchedRef } from '../serve/watch.ts';
import type { Command } from './command.ts';

/** How long a deploy under way may take to finish after SIGTERM before it is stopped cleanly. */
const STOP_GRACE_MS = 60_000;

export async function serveCommand(ctx: Context): Promise<void> {
  const { config, reporter } = ctx;
  const secret = await readWebhookSecret(config.serve, { file: config.file, env: ctx.env });
  if (!secret) throw new WebhookSecretMissingError(config.file);
  const watch = { ref: await watchedRef(ctx), repository: config.serve.repository ?? config.repo.url };
  // Runs get the environment without the webhook secret: build commands never see it.
  const runCtx = { ...ctx, env: Object.freeze(Object.fromEntries(Object.entries(ctx.env).filter(([k]) => k !== WEBHOOK_SECRET_VAR))) };
  const loop = new DeployLoop({
    body: async (_trigger, signal) => runOnce({ ...runCtx, signal }),
    onCrash: (error) => reporter.warn(`the deploy loop's run failed: ${error instanceof Error ? error.message : String(error)}`),
    now: ctx.now,
  });
  const { host, port } = config.serve.listen;
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const server = await startWebhookServer({ listen: config.serve.listen, secret, maxBodyBytes: config.serve.maxBodyBytes, watch, loop, log: reporter }).catch(
    (error: NodeJS.ErrnoException) => {
      throw new ServeListenError(address, error.code ?? String(error), error);
    },
  );
  if (!isLoopback(host)) {
    reporter.warn(`mfd serve listens on ${address}, beyond this host: webhooks arrive unencrypted unless a TLS proxy is in front`, 'put Caddy (systemd/Caddyfile) or another TLS proxy in front, and listen on 127.0.0.1');
  }
  reporter.info(`serving webhooks on ${server.url}/webhook for ${watch.ref}, health on ${server.url}/healthz; polling every ${formatDuration(config.serve.pollMs)}`);
  // The safety net, and the first look at start: a push made while serve was down deploys now.
  loop.poke({ kind: 'poll' });
  const poll = setInterval(() => loop.poke({ kind: 'poll' }), config.serve.pollMs);
  await new Promise<void>((resolve) => (ctx.signal.aborted ? resolve() : ctx.signal.addEventListener('abort', () => resolve(), { once: true })));
  clearInterval(poll);
  reporter.info(`stopping: no more deliveries${loop.busy ? `; letting the deploy under way finish (up to ${formatDuration(STOP_GRACE_MS)})` : ''}`);
  await server.close();
  await loop.stop(STOP_GRACE_MS);
  reporter.result(['mfd serve stopped'], { ok: true, command: 'serve', stopped: true });
}

/** One run of the loop: a deploy of the watched branch, as its LastRun. */
async function runOnce(ctx: Context): Promise<LastRun> {
  try {
    const result = await deploy(ctx, undefined);
    return { outcome: 'success', sha: result.sha, at: ctx.now(), error: null };
  } catch (error) {
    if (!(error instanceof MfdError)) throw error;
    return { outcome: 'failed', sha: null, at: ctx.now(), error: { code: error.code, message: error.message } };
  }
}

export const SERVE: Command = {
  name: 'serve',
  args: '',
  summary: 'receive push webhooks on [serve] listen and deploy the watched branch (polling too, as a safety net)',
  flags: {},
  stopsCleanly: true,
  run: serveCommand,
};
