// Reconciles what a killed run left behind, before any command acts: temporary links beside
// `active`, and deployments still marked `building` whose process is gone (marked failed, removed).
import { rm } from 'node:fs/promises';
import { readActive, removeStaleActiveTmp } from './activate.ts';
import type { Layout } from './layout.ts';
import { isAlive } from './process.ts';
import type { Reporter } from './output.ts';
import { listDeployments, readRecords, removeRecord, writeRecord, type DeploymentRecord } from './record.ts';
import { describeFailure } from './best-effort.ts';

export interface Recovery {
  removedLinks: string[];
  failedBuilds: string[];
  /** Interrupted builds whose failed record could not be written (a full disk): removed instead. */
  unrecorded: { name: string; error: unknown }[];
  /** `active` names a directory that does not exist (removed by hand): reported, not guessed at. */
  danglingActive?: string;
}

export async function recover(layout: Layout, now: () => number): Promise<Recovery> {
  const removedLinks = await removeStaleActiveTmp(layout);
  const failedBuilds: string[] = [];
  const unrecorded: { name: string; error: unknown }[] = [];
  const deployments = await listDeployments(layout, now());
  const active = await readActive(layout);
  for (const d of deployments) {
    const record = d.record;
    if (!record || record.state !== 'building' || d.name === active) continue;
    if (record.pid !== undefined && record.pid !== process.pid && isAlive(record.pid)) continue;
    if (record.buildPgid !== undefined) stopOrphanedBuild(record.buildPgid);
    // The directory goes first: on a full disk that frees the space the record's write needs.
    await rm(layout.deployment(d.name), { recursive: true, force: true });
    await markInterrupted(layout, record, now, unrecorded);
    failedBuilds.push(d.name);
  }
  // A build whose directory is already gone (a failure path that could not write its record):
  // nothing on disk to show, but its record must not say `building` for ever.
  const onDisk = new Set(deployments.map((d) => d.name));
  for (const record of (await readRecords(layout)).values()) {
    if (record.state !== 'building' || onDisk.has(record.name)) continue;
    if (record.pid !== undefined && record.pid !== process.pid && isAlive(record.pid)) continue;
    await markInterrupted(layout, record, now, unrecorded);
  }
  const recovery: Recovery = { removedLinks, failedBuilds, unrecorded };
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
 * A deploy killed with -9 leaves its build command running in its own process group, still writing
 * into the directory we are about to remove. Its deploy is gone, so the group is ours to stop.
 */
function stopOrphanedBuild(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: the build already ended; nothing to stop.
  }
}

export function reportRecovery(ctx: { reporter: Reporter; layout: Layout }, recovery: Recovery): void {
  for (const link of recovery.removedLinks) ctx.reporter.warn(`removed ${link}, left by an interrupted activation`);
  for (const name of recovery.failedBuilds) {
    ctx.reporter.warn(`marked ${name} failed and removed it: the deploy building it was interrupted`);
  }
  for (const { name, error } of recovery.unrecorded) {
    const { message } = describeFailure(error);
    ctx.reporter.warn(`could not mark ${name} failed (${message}); removed its record instead`);
  }
  if (recovery.danglingActive) {
    ctx.reporter.warn(
      `active points at ${recovery.danglingActive}, which does not exist`,
      'deploy a ref with "mfd deploy <ref>", or roll back with "mfd rollback <sha>"',
    );
  }
}
