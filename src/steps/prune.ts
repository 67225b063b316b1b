// Which deployments to delete after a successful deploy (planPrune, pure) and deleting them
// (applyPrune, best effort). Never the active one, never the previous good one; failed ones first.
// A deployment is renamed aside before its files go, so a removal cut short (kill -9, a file its
// user may not delete) never leaves a half-removed directory that still counts as a deployment.
import { readdir, rename, rm } from '../sys/files.ts';
import { parseDeploymentName } from '../state/deployment.ts';
import { PRUNING_PREFIX, type Layout } from '../state/layout.ts';
import { isGood, orderNewestFirst, removeRecord, type Deployment } from '../state/record.ts';

export interface PrunePlan {
  remove: Deployment[];
}

/**
 * @param deployments in any order: they are ordered here (orderNewestFirst), so one named with a
 *   future time is pruned first instead of counting toward `keep` for ever
 * @param keep how many good deployments to keep, counting the active one
 * @param now ms since the epoch
 */
export function planPrune(
  deployments: readonly Deployment[],
  opts: { active: string | undefined; previous: string | undefined; keep: number; now: number },
): PrunePlan {
  const protectedNames = new Set([opts.active, opts.previous].filter((n): n is string => n !== undefined));
  const ordered = orderNewestFirst(deployments, opts.now);
  // A build in progress is its deploy's, and a directory with an untrusted record is nobody's to remove.
  const failed = ordered.filter((d) => !isGood(d) && d.state !== 'building' && d.state !== 'invalid' && !protectedNames.has(d.name));
  const good = ordered.filter((d) => isGood(d));
  const keepNames = new Set(good.slice(0, opts.keep).map((d) => d.name));
  const extra = good.filter((d) => !keepNames.has(d.name) && !protectedNames.has(d.name));
  return { remove: [...failed, ...extra] };
}

export interface PruneFailure {
  name: string;
  reason: string;
  /** What is left on disk, for the hint's rm -rf. */
  path: string;
}

export async function applyPrune(layout: Layout, plan: PrunePlan): Promise<{ removed: string[]; failures: PruneFailure[] }> {
  const removed: string[] = [];
  const failures: PruneFailure[] = [];
  for (const d of plan.remove) {
    let path = layout.deployment(d.name);
    try {
      // One rename(2), which needs no space: from here on the directory is no deployment.
      await rename(path, layout.pruning(d.name));
      path = layout.pruning(d.name);
      await removeRecord(layout, d.name);
      if (d.record?.runId) await rm(layout.log(d.record.runId), { force: true });
      await rm(path, { recursive: true, force: true });
      removed.push(d.name);
    } catch (error) {
      failures.push({ name: d.name, reason: (error as NodeJS.ErrnoException).code ?? String(error), path });
    }
  }
  return { removed, failures };
}

/**
 * Removes what an earlier prune renamed aside and could not finish removing (killed, or a file
 * it may not delete): only entries named `.mfd-prune-mfd_<unix>_<sha>`, which prune alone makes.
 */
export async function removeStalePruning(layout: Layout): Promise<{ removed: string[]; failures: PruneFailure[] }> {
  const removed: string[] = [];
  const failures: PruneFailure[] = [];
  for (const entry of await readdir(layout.root)) {
    if (!entry.startsWith(PRUNING_PREFIX) || !parseDeploymentName(entry.slice(PRUNING_PREFIX.length))) continue;
    const path = `${layout.root}/${entry}`;
    try {
      // rm -r removes a link of that name itself, never what it points at.
      await rm(path, { recursive: true, force: true });
      removed.push(entry);
    } catch (error) {
      failures.push({ name: entry, reason: (error as NodeJS.ErrnoException).code ?? String(error), path });
    }
  }
  return { removed, failures };
}
