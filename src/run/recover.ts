// Reconciles what a killed run left behind; only deploy and rollback call it, holding the lock:
// temporary links beside `active`, temp files of atomic writes whose writer is dead (a commit status marker one had set aside is put back first),
// what a prune renamed aside and did not finish,
// and deployments still `building` whose deploy is gone (their build stopped if it is provably still theirs, then marked failed and removed).
import { relative } from 'node:path';
import { rm } from '../sys/files.ts';
import { removeAbandonedTemps } from '../state/atomicfile.ts';
import { markerDir, restoreSetAside } from '../status/markers.ts';
import { describeForeignActive, inspectActive, removeStaleActiveTmp } from '../steps/activate.ts';
import { removeStalePruning, type PruneFailure } from '../steps/prune.ts';
import type { Layout } from '../state/layout.ts';
import { groupMembers, groupRemnant, isAlive, isSignalable, processStart, proveIdentity } from '../sys/process.ts';
import type { Progress } from '../sys/output.ts';
import { listDeployments, readRecords, removeRecord, writeRecord, type Deployment, type DeploymentRecord } from '../state/record.ts';
import { describeFailure } from '../state/best-effort.ts';
import type { OnWarning } from '../state/stored.ts';

export interface Recovery {
  removedLinks: string[];
  /** Commit status markers a killed run had set aside (.mfd/status/.<sha>.json.tmp-<pid>-…), put back. */
  restoredMarkers: string[];
  /** Temp files of atomic writes (in .mfd/, .mfd/deployments, .mfd/status) whose writer is dead. */
  removedTemps: string[];
  /** What an interrupted (or refused) prune left renamed aside: removed now, or still not removable. */
  pruning: { removed: string[]; failures: PruneFailure[] };
  failedBuilds: string[];
  /** Interrupted builds whose failed record could not be written (a full disk): removed instead. */
  unrecorded: { name: string; error: unknown }[];
  /** Build process groups stopped, by deployment; `left`: its leader had exited, leaving this many. */
  stopped: { name: string; pgid: number; left?: number }[];
  /** Build process groups left alone because they could not be proved to be that build's. */
  notSignalled: { name: string; pgid: number; why: string }[];
  /** `active` names a directory that does not exist (removed by hand): reported, not guessed at. */
  danglingActive?: string;
  /** `active` points at something that is no deployment of this app root: reported; the run replaces the link and touches nothing it points at. */
  foreignActive?: string;
}

/**
 * Whether the deploy that wrote a `building` record is gone, so the build was interrupted.
 * Read-only (no signal, no write), so `mfd ls` and `mfd status` can ask it too.
 */
export async function isInterrupted(record: DeploymentRecord, self: number): Promise<boolean> {
  if (record.state !== 'building') return false;
  const { pid, pidStart } = record;
  // Our own pid is not building anything: a record naming it is from an earlier process.
  if (pid === undefined || pid <= 1 || pid === self || !isAlive(pid)) return true;
  // Records written before start times were kept have none; a live pid then counts as the deploy.
  if (pidStart === undefined) return false;
  return (await processStart(pid)) !== pidStart;
}

/** What ls and status call a deployment: a build whose deploy is gone is `interrupted`, not `building`. */
export async function shownState(d: Deployment, self: number): Promise<Deployment['state'] | 'interrupted'> {
  return d.record && (await isInterrupted(d.record, self)) ? 'interrupted' : d.state;
}

export async function recover(layout: Layout, now: () => number, self: number, onWarning?: OnWarning): Promise<Recovery> {
  const removedLinks = await removeStaleActiveTmp(layout);
  // Before the temp files go: a marker set aside under one is a killed run's pending, or a state it owes.
  const restoredMarkers = await restoreSetAside(layout, self);
  const removedTemps = await removeAbandonedTemps([layout.state, layout.records, markerDir(layout)], self);
  const pruning = await removeStalePruning(layout);
  const recovery: Recovery = { removedLinks, restoredMarkers, removedTemps, pruning, failedBuilds: [], unrecorded: [], stopped: [], notSignalled: [] };
  const deployments = await listDeployments(layout, { now: now(), onWarning });
  const link = await inspectActive(layout);
  const active = link.kind === 'deployment' ? link.name : undefined;
  if (link.kind === 'foreign') recovery.foreignActive = link.target;
  for (const d of deployments) {
    const record = d.record;
    if (!record || record.state !== 'building' || d.name === active) continue;
    if (!(await isInterrupted(record, self))) continue;
    if (record.buildPgid !== undefined) {
      const identity = await proveIdentity(record.buildPgid, record.buildPgidStart, { group: true });
      if (identity.proved) {
        await stopOrphanedBuild(record.buildPgid);
        recovery.stopped.push({ name: d.name, pgid: record.buildPgid });
      } else if (!identity.gone) {
        recovery.notSignalled.push({ name: d.name, pgid: record.buildPgid, why: identity.why });
      } else {
        await stopLeaderlessBuild(layout, d.name, record.buildPgid, record.buildPgidStart, recovery);
      }
    }
    // The directory goes first: on a full disk that frees the space the record's write needs.
    await rm(layout.deployment(d.name), { recursive: true, force: true });
    await markInterrupted(layout, record, now, recovery.unrecorded);
    recovery.failedBuilds.push(d.name);
  }
  // A build whose directory is already gone (a failure path that could not write its record):
  // nothing on disk to show, but its record must not say `building` for ever.
  const onDisk = new Set(deployments.map((d) => d.name));
  for (const record of (await readRecords(layout)).values()) {
    if (record.state !== 'building' || onDisk.has(record.name) || !(await isInterrupted(record, self))) continue;
    await markInterrupted(layout, record, now, recovery.unrecorded);
  }
  if (active && !deployments.some((d) => d.name === active)) recovery.danglingActive = active;
  return recovery;
}

/**
 * Marks an interrupted build failed. When even that write fails (no space), the record is removed:
 * that needs no space, and a record without a directory is only a label (the run's history line
 * keeps the error).
 */
async function markInterrupted(layout: Layout, record: DeploymentRecord, now: () => number, unrecorded: Recovery['unrecorded']): Promise<void> {
  try {
    await writeRecord(layout, { ...record, state: 'failed', updatedAt: new Date(now()).toISOString(), error: 'interrupted: the deploy that was building it is gone' });
  } catch (error) {
    await removeRecord(layout, record.name);
    unrecorded.push({ name: record.name, error });
  }
}

/**
 * The build's leader is gone, but what it started may still run in its group (a job it left
 * when its deploy was killed): stopped when a member proves the group is that build's
 * (groupRemnant), else left alone and reported with its pids. While a proved member lives, the
 * group's id is that group's alone, so the whole group is signalled, as a build's is.
 */
async function stopLeaderlessBuild(layout: Layout, name: string, pgid: number, start: string | undefined, recovery: Recovery): Promise<void> {
  // The variable deploy-steps.ts gives every build command (and cache copy) of that deployment.
  const remnant = await groupRemnant(pgid, start ?? '', `MFD_DEPLOYMENT_DIR=${layout.deployment(name)}`);
  if (!remnant || remnant.proved.length + remnant.unproved.length === 0) return;
  const left = remnant.proved.length + remnant.unproved.length;
  if (remnant.proved.length > 0) {
    await stopOrphanedBuild(pgid);
    recovery.stopped.push({ name, pgid, left });
    return;
  }
  const pids = remnant.unproved.join(', ');
  const why = start === undefined ? 'no start time was recorded' : 'none has that build\'s session, start time and MFD_DEPLOYMENT_DIR';
  recovery.notSignalled.push({ name, pgid, why: `its leader is gone, and process${left === 1 ? '' : 'es'} ${pids} left in it cannot be proved to be that build's (${why})` });
}

/**
 * A deploy killed with -9 leaves its build command running in its own process group, still writing
 * into the directory we are about to remove. Its leader is proved to be that build (proveIdentity);
 * pidfds would close the short window between proof and signal, but Node has none.
 */
async function stopOrphanedBuild(pgid: number): Promise<void> {
  // Proved by its caller; never a group id kill() reads as "every process" or init's.
  if (!isSignalable(pgid)) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: the build ended since the proof; nothing to stop.
    return;
  }
  // SIGKILL is delivered asynchronously: let every member die (zombies hold nothing) before its
  // directory is removed, or a cp still finishing a write makes rm -rf fail with ENOTEMPTY.
  const until = performance.now() + 2000;
  while (performance.now() < until && ((await groupMembers(pgid)) ?? []).length > 0) await new Promise((r) => setTimeout(r, 10));
}

export function reportRecovery(ctx: { reporter: Pick<Progress, 'warn'>; layout: Layout }, recovery: Recovery): void {
  for (const link of recovery.removedLinks) ctx.reporter.warn(`removed ${link}, left by an interrupted activation`);
  for (const path of recovery.restoredMarkers) ctx.reporter.warn(`restored ${relative(ctx.layout.root, path)}, set aside by an interrupted run`);
  for (const path of recovery.removedTemps) ctx.reporter.warn(`removed ${relative(ctx.layout.root, path)}, left by an interrupted write`);
  for (const name of recovery.pruning.removed) ctx.reporter.warn(`removed ${name}, left by an interrupted prune`);
  for (const f of recovery.pruning.failures) ctx.reporter.warn(`could not remove ${f.name}, left by an earlier prune: ${f.reason}`, `remove it by hand: rm -rf ${f.path}`);
  for (const { name, pgid, left } of recovery.stopped) {
    const remnant = left === undefined ? '' : ` (${left === 1 ? '1 process' : `${left} processes`} its exited leader left)`;
    ctx.reporter.warn(`stopped process group ${pgid}${remnant}, the build of ${name} its deploy left running`);
  }
  for (const { name, pgid, why } of recovery.notSignalled) {
    ctx.reporter.warn(`did not signal process group ${pgid} recorded for ${name}: ${why}`, 'if a build of that deployment still runs, stop it by hand');
  }
  for (const name of recovery.failedBuilds) {
    ctx.reporter.warn(`marked ${name} failed and removed it: the deploy building it was interrupted`);
  }
  for (const { name, error } of recovery.unrecorded) {
    const { message } = describeFailure(error);
    ctx.reporter.warn(`could not mark ${name} failed (${message}); removed its record instead`);
  }
  if (recovery.foreignActive !== undefined) ctx.reporter.warn(...describeForeignActive(recovery.foreignActive));
  if (recovery.danglingActive) {
    ctx.reporter.warn(
      `active points at ${recovery.danglingActive}, which does not exist`,
      'deploy a ref with "mfd deploy <ref>", or roll back with "mfd rollback <sha>"',
    );
  }
}
