// Reconciles what a killed run left behind, before any command acts: temporary links beside
// `active`, and deployments still marked `building` whose process is gone (marked failed, removed).
import { rm } from 'node:fs/promises';
import { readActive, removeStaleActiveTmp } from './activate.ts';
import type { Layout } from './layout.ts';
import { isAlive } from './process.ts';
import type { Reporter } from './output.ts';
import { listDeployments, writeRecord } from './record.ts';

export interface Recovery {
  removedLinks: string[];
  failedBuilds: string[];
  /** `active` names a directory that does not exist (removed by hand): reported, not guessed at. */
  danglingActive?: string;
}

export async function recover(layout: Layout, now: () => number): Promise<Recovery> {
  const removedLinks = await removeStaleActiveTmp(layout);
  const failedBuilds: string[] = [];
  const deployments = await listDeployments(layout, now());
  const active = await readActive(layout);
  for (const d of deployments) {
    const record = d.record;
    if (!record || record.state !== 'building' || d.name === active) continue;
    if (record.pid !== undefined && record.pid !== process.pid && isAlive(record.pid)) continue;
    if (record.buildPgid !== undefined) stopOrphanedBuild(record.buildPgid);
    await writeRecord(layout, {
      ...record,
      state: 'failed',
      updatedAt: new Date(now()).toISOString(),
      error: 'interrupted: the deploy that was building it is gone',
    });
    await rm(layout.deployment(d.name), { recursive: true, force: true });
    failedBuilds.push(d.name);
  }
  const recovery: Recovery = { removedLinks, failedBuilds };
  if (active && !deployments.some((d) => d.name === active)) recovery.danglingActive = active;
  return recovery;
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
  if (recovery.danglingActive) {
    ctx.reporter.warn(
      `active points at ${recovery.danglingActive}, which does not exist`,
      'deploy a ref with "mfd deploy <ref>", or roll back with "mfd rollback <sha>"',
    );
  }
}
