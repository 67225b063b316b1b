// Choosing a rollback target, pure: by the recorded activation history, never by mtime.
// The target is the most recent good deployment activated before the current one.
import { DeploymentNotFoundError, RefAmbiguousError, RollbackUnavailableError } from '../errors/index.ts';
import { isGood, type Activation, type Deployment } from '../state/record.ts';

export function planRollback(
  deployments: readonly Deployment[],
  activations: readonly Activation[],
  active: string | undefined,
  target?: string,
): Deployment {
  if (target !== undefined) return findTarget(deployments, active, target);
  const good = new Map(deployments.filter(isGood).map((d) => [d.name, d]));
  for (let i = activations.length - 1; i >= 0; i--) {
    const name = activations[i]!.name;
    if (name !== active && good.has(name)) return good.get(name)!;
  }
  // Go mfd directories carry no history: fall back to the next older good one, as Go mfd does.
  const older = deployments.filter((d) => isGood(d) && d.name !== active);
  const activeAt = deployments.find((d) => d.name === active)?.createdAt ?? Infinity;
  const candidate = older.find((d) => d.createdAt <= activeAt);
  if (candidate) return candidate;
  throw new RollbackUnavailableError(
    active ? `no good deployment was active before ${active}` : 'no deployment is active',
  );
}

function findTarget(deployments: readonly Deployment[], active: string | undefined, target: string): Deployment {
  const t = target.toLowerCase();
  if (!/^[0-9a-f]{4,40}$/.test(t)) throw new DeploymentNotFoundError(target, 'not a sha or short sha');
  const matches = deployments.filter((d) => d.sha.startsWith(t));
  // Every commit the prefix names counts, good or not: preferring the good one would roll back to
  // a commit the user may not have meant. Each candidate says its state, so the error shows which.
  const shas = [...new Set(matches.map((d) => d.sha))];
  if (shas.length > 1) throw new RefAmbiguousError(target, shas.map((sha) => `${sha} (${describeStates(matches, sha)})`));
  const good = matches.filter(isGood);
  if (good.length === 0) {
    const bad = matches[0];
    throw new DeploymentNotFoundError(target, bad ? `deployment ${bad.name} is ${bad.state}, not good` : 'no deployment matches');
  }
  // Several good dirs of one sha: the newest.
  const chosen = good[0]!;
  if (chosen.name === active) throw new RollbackUnavailableError(`${chosen.sha} is already active`);
  return chosen;
}

/** The states of a commit's deployments, good first: `healthy`, or `healthy, failed`. */
function describeStates(matches: readonly Deployment[], sha: string): string {
  const of = matches.filter((d) => d.sha === sha);
  return [...new Set([...of.filter(isGood), ...of.filter((d) => !isGood(d))].map((d) => d.state))].join(', ');
}
