// Which deployments to delete after a successful deploy (planPrune, pure) and deleting them
// (applyPrune, best effort). Never the active one, never the previous good one; failed ones first.
import { rm } from '../sys/files.ts';
import type { Layout } from '../state/layout.ts';
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
}

export async function applyPrune(layout: Layout, plan: PrunePlan): Promise<{ removed: string[]; failures: PruneFailure[] }> {
  const removed: string[] = [];
  const failures: PruneFailure[] = [];
  for (const d of plan.remove) {
    try {
      await rm(layout.deployment(d.name), { recursive: true, force: true });
      await removeRecord(layout, d.name);
      if (d.record?.runId) await rm(layout.log(d.record.runId), { force: true });
      removed.push(d.name);
    } catch (error) {
      failures.push({ name: d.name, reason: (error as NodeJS.ErrnoException).code ?? String(error) });
    }
  }
  return { removed, failures };
}
