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
import { readMarkers, type Marker } from '../status/markers.ts';
import { readPause } from '../state/pause.ts';
import { readQuarantine } from '../state/quarantine.ts';
import { matchProcess } from '../sys/process.ts';

export async function statusCommand(ctx: Context): Promise<void> {
  const { layout } = ctx;
  const warn = (m: string, h?: string) => ctx.reporter.warn(m, h);
  let foreign = false;
  const [active, deployments, activations, history, lock, markers, pause, quarantine] = await Promise.all([
    readActive(layout, (m, h) => {
      foreign = true;
      warn(m, h);
    }),
    listDeployments(layout, { now: ctx.now(), onWarning: warn }),
    readActivations(layout, warn),
    readHistory(layout, warn),
    ctx.lockBackend.inspect(appLock(layout), { staleMs: ctx.config.lock.staleMs, now: ctx.now, host: ctx.identity.host }),
    readMarkers(layout, warn),
    readPause(layout),
    readQuarantine(layout),
  ]);
  if (!quarantine.ok) warn(`cannot read the quarantine marks: ${quarantine.problem}`, 'the deploy loop deploys nothing by itself until the file is fixed or removed');
  const marks = quarantine.ok ? [...quarantine.marks].map(([sha, m]) => ({ sha, ...m })) : [];
  const current = deployments.find((d) => d.name === active);
  const since = [...activations].reverse().find((a) => a.name === active)?.at ?? null;
  // A run refused because the lock was held changed nothing: the holder's run is the one that counts.
  const last = history.find((e) => e.outcome !== 'refused');
  const holder = lock && !lock.stale && lock.owner ? lock.owner : undefined;
  const builds = await Promise.all(
    deployments.filter((d) => d.state === 'building').map(async (d) => ({ directory: d.name, state: await shownState(d, ctx.identity.pid) })),
  );
  // A free lock does not make a pending stale: a run lets go of it before sending its final state.
  // Its writer still running (pid and start time, as for lock holders) says that run is not over.
  const posting = new Set<string>();
  await Promise.all(markers.map(async (m) => {
    if (!m.final && m.pid !== undefined && (await matchProcess(m.pid, m.start)).kind === 'same') posting.add(m.sha);
  }));
  const age = (at: number) => `${formatAge(Math.max(0, ctx.now() - at))} ago`;
  const human = [
    `active:   ${current ? `${current.sha} (${current.name})` : (active ?? (foreign ? 'none: the link points at no deployment of this app root (see the warning)' : 'nothing deployed yet'))}`,
    `since:    ${since ? `${since} (${age(Date.parse(since))})` : 'unknown'}`,
    `state:    ${describeState(ctx, active, current)}`,
    ...builds.map((b) => `build:    ${b.directory} ${b.state === 'interrupted' ? 'interrupted (its deploy is gone; the next deploy or rollback removes it)' : 'in progress'}`),
    ...(holder ? [`running:  ${[holder.command, holder.ref].filter(Boolean).join(' ')} by ${holder.user}@${holder.hostname} pid ${holder.pid} since ${new Date(holder.timestamp).toISOString()} (${age(holder.timestamp)})`] : []),
    `last run: ${last ? `${last.command} ${last.ref ?? ''} → ${last.outcome}${last.error ? ` (${last.error.code}: ${last.error.message})` : ''} at ${last.end}`.replace('  ', ' ') + ` (${last.trigger ?? 'manual'}, took ${((Date.parse(last.end) - Date.parse(last.start)) / 1000).toFixed(1)}s; mfd logs ${last.runId})` : 'none'}`,
    ...markers.filter((m) => m.final || !holder).map((m) => `status:   ${describeMarker(m, posting.has(m.sha))}`),
    ...(pause.paused ? [`paused:   ${'record' in pause ? `continuous deployment, by ${pause.record.user}@${pause.record.host} since ${pause.record.at} (${age(Date.parse(pause.record.at))})${pause.record.reason ? `: ${pause.record.reason}` : ''}` : `continuous deployment (${pause.problem})`}; "mfd resume" releases it`] : []),
    ...marks.map((m) => `skipped:  ${m.sha} (${m.outcome} ${m.at}: ${m.reason}); the loop never deploys it by itself, "mfd deploy ${m.sha}" can`),
    `lock:     ${!lock ? 'free' : `${lock.stale ? 'stale' : 'held'} by ${lock.owner ? `${lock.owner.user}@${lock.owner.hostname} pid ${lock.owner.pid} "mfd ${lock.owner.command}"` : 'unknown'}`}`,
  ];
  ctx.reporter.result(human, {
    active: current ? { sha: current.sha, directory: current.name, state: current.state, since } : null,
    builds,
    running: holder ? { command: holder.command, ref: holder.ref, user: holder.user, hostname: holder.hostname, pid: holder.pid, since: new Date(holder.timestamp).toISOString() } : null,
    lastRun: last ?? null,
    lock: lock ? { owner: lock.owner ?? null, stale: lock.stale || null, alive: lock.alive ?? null } : null,
    commitStatuses: markers,
    paused: pause.paused ? ('record' in pause ? pause.record : { problem: pause.problem }) : null,
    quarantined: marks,
  });
}

/** A commit status a run still owes the forge (status/markers.ts); a pending one only when no run holds the lock. */
function describeMarker(m: Marker, posting: boolean): string {
  const sha = m.sha.slice(0, 12);
  if (m.final) return `${m.final.state} for ${sha} not posted (run ${m.runId}: ${m.error ?? 'unknown error'}); the next deploy or rollback sends it again`;
  return posting
    ? `pending on ${sha} being posted by run ${m.runId} (pid ${m.pid}), which is still sending its final state`
    : `pending left on ${sha} by run ${m.runId}, which was interrupted; the next deploy or rollback closes it with error`;
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
