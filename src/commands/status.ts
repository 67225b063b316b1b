// `mfd status`: in a few lines, what is live and how it got there: the active deployment and since
// when, its state, any build in progress or interrupted, the last run and how it ended, and the
// deployment lock. Read-only: it never repairs, so it never needs the lock.
import { readActive } from '../steps/activate.ts';
import type { Context } from '../context.ts';
import type { Command } from './command.ts';
import { formatAge } from '../errors/index.ts';
import { readHistory } from '../state/history.ts';
import { appLock } from '../lock/names.ts';
import { listDeployments, readActivations, type Deployment } from '../state/record.ts';
import { shownState } from '../run/recover.ts';

export async function statusCommand(ctx: Context): Promise<void> {
  const { layout } = ctx;
  const warn = (m: string, h?: string) => ctx.reporter.warn(m, h);
  const [active, deployments, activations, history, lock] = await Promise.all([
    readActive(layout),
    listDeployments(layout, { now: ctx.now(), onWarning: warn }),
    readActivations(layout, warn),
    readHistory(layout, warn),
    ctx.lockBackend.inspect(appLock(layout), { staleMs: ctx.config.lock.staleMs, now: ctx.now, host: ctx.identity.host }),
  ]);
  const current = deployments.find((d) => d.name === active);
  const since = [...activations].reverse().find((a) => a.name === active)?.at ?? null;
  // A run refused because the lock was held changed nothing: the holder's run is the one that counts.
  const last = history.find((e) => e.outcome !== 'refused');
  const holder = lock && !lock.stale && lock.owner ? lock.owner : undefined;
  const builds = await Promise.all(
    deployments.filter((d) => d.state === 'building').map(async (d) => ({ directory: d.name, state: await shownState(d, ctx.identity.pid) })),
  );
  const age = (at: number) => `${formatAge(Math.max(0, ctx.now() - at))} ago`;
  const human = [
    `active:   ${current ? `${current.sha} (${current.name})` : (active ?? 'nothing deployed yet')}`,
    `since:    ${since ? `${since} (${age(Date.parse(since))})` : 'unknown'}`,
    `state:    ${describeState(ctx, active, current)}`,
    ...builds.map((b) => `build:    ${b.directory} ${b.state === 'interrupted' ? 'interrupted (its deploy is gone; the next deploy or rollback removes it)' : 'in progress'}`),
    ...(holder ? [`running:  ${[holder.command, holder.ref].filter(Boolean).join(' ')} by ${holder.user}@${holder.hostname} pid ${holder.pid} since ${new Date(holder.timestamp).toISOString()} (${age(holder.timestamp)})`] : []),
    `last run: ${last ? `${last.command} ${last.ref ?? ''} → ${last.outcome}${last.error ? ` (${last.error.code}: ${last.error.message})` : ''} at ${last.end}`.replace('  ', ' ') : 'none'}`,
    `lock:     ${!lock ? 'free' : `${lock.stale ? 'stale' : 'held'} by ${lock.owner ? `${lock.owner.user}@${lock.owner.hostname} pid ${lock.owner.pid} "mfd ${lock.owner.command}"` : 'unknown'}`}`,
  ];
  ctx.reporter.result(human, {
    active: current ? { sha: current.sha, directory: current.name, state: current.state, since } : null,
    builds,
    running: holder ? { command: holder.command, ref: holder.ref, user: holder.user, hostname: holder.hostname, pid: holder.pid, since: new Date(holder.timestamp).toISOString() } : null,
    lastRun: last ?? null,
    lock: lock ? { owner: lock.owner ?? null, stale: lock.stale || null, alive: lock.alive ?? null } : null,
  });
}

/** Only a deployment recorded healthy came up healthy: the history says a run ended, not what was checked. */
function describeState(ctx: Context, active: string | undefined, current: Deployment | undefined): string {
  if (!active) return 'none';
  if (!current) return 'missing (active points at a directory that is gone)';
  switch (current.state) {
    case 'adopted':
      return 'built (made by Go mfd)';
    case 'healthy':
      return 'built, came up healthy';
    case 'built':
      return ctx.config.systemd.unit || ctx.config.health
        ? 'built, not checked since it was activated'
        : 'built (nothing checks that it came up: no [systemd] unit or [health] check configured)';
    default:
      return current.state;
  }
}

export const STATUS: Command = {
  name: 'status',
  args: '',
  summary: 'the active deployment, since when, its state, the last run, the lock',
  flags: {},
  run: statusCommand,
};
