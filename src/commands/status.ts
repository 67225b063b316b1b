// `mfd status`: in a few lines, what is live and how it got there: the active deployment and since
// when, its state, the last run and how it ended, and the deployment lock.
import { readActive } from '../activate.ts';
import type { Context } from '../context.ts';
import { formatAge } from '../errors.ts';
import { readHistory } from '../history.ts';
import { inspectLock } from '../lock.ts';
import { listDeployments, readActivations } from '../record.ts';

export async function statusCommand(ctx: Context): Promise<void> {
  const { layout } = ctx;
  const [active, deployments, activations, history, lock] = await Promise.all([
    readActive(layout),
    listDeployments(layout, ctx.now()),
    readActivations(layout),
    readHistory(layout),
    inspectLock(layout.lockFile, { staleMs: ctx.config.lock.staleMs, now: ctx.now, env: process.env }),
  ]);
  const current = deployments.find((d) => d.name === active);
  const since = [...activations].reverse().find((a) => a.name === active)?.at ?? null;
  const last = history[0];
  const state = !active ? 'none' : !current ? 'missing (active points at a directory that is gone)' : current.state === 'adopted' ? 'built (made by Go mfd)' : current.state;
  const lastHealthy = last?.outcome === 'success' && last.deployment === active;
  const human = [
    `active:   ${current ? `${current.sha} (${current.name})` : (active ?? 'nothing deployed yet')}`,
    `since:    ${since ? `${since} (${formatAge(ctx.now() - Date.parse(since))} ago)` : 'unknown'}`,
    `state:    ${state}${lastHealthy ? ', came up healthy' : ''}`,
    `last run: ${last ? `${last.command} ${last.ref ?? ''} → ${last.outcome}${last.error ? ` (${last.error.code}: ${last.error.message})` : ''} at ${last.end}`.replace('  ', ' ') : 'none'}`,
    `lock:     ${!lock ? 'free' : `${lock.stale ? 'stale' : 'held'} by ${lock.owner ? `${lock.owner.user}@${lock.owner.hostname} pid ${lock.owner.pid} "mfd ${lock.owner.command}"` : 'unknown'}`}`,
  ];
  ctx.reporter.result(human, {
    active: current ? { sha: current.sha, directory: current.name, state: current.state, since } : null,
    lastRun: last ?? null,
    lock: lock ? { owner: lock.owner ?? null, stale: lock.stale || null, alive: lock.alive ?? null } : null,
  });
}
