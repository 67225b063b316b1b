// A deploy as a plan of named steps, known before its first side effect: what `mfd deploy
// --dry-run` prints and what run/deploy.ts executes. decideDeploy and composeDeployPlan are pure;
// planDeploy gathers their facts and writes nothing (no recovery, no lock, no fetch).
import type { Config } from '../config/config.ts';
import type { Context } from '../context.ts';
import { UsageError } from '../errors/index.ts';
import type { CacheLock } from '../git/git.ts';
import { remoteOf } from '../git/remote.ts';
import { fullSha } from '../git/revision.ts';
import type { LockOwner } from '../lock/backend.ts';
import { planLocks } from '../lock/policy.ts';
import { formatDeploymentName } from '../state/deployment.ts';
import { isGood, listDeployments, type Deployment } from '../state/record.ts';
import { readActive } from '../steps/activate.ts';
import { inspectFreeSpace } from '../steps/disk.ts';
import { fingerprintCommands } from '../steps/fingerprint.ts';
import { planPrune } from '../steps/prune.ts';
import type { StepName } from '../sys/events.ts';

export interface LockCheck {
  name: string;
  file: string;
  /** `stale`: held by nobody alive, so a deploy would take it over. */
  state: 'free' | 'held' | 'stale';
  owner: LockOwner | null;
  /** Why it is stale. */
  reason: string | null;
}

export interface DeployFacts {
  /** As the user typed it, if at all. */
  ref: string | undefined;
  resolved: { sha: string; ref: string };
  deployments: readonly Deployment[];
  active: string | undefined;
  locks: LockCheck[];
  disk: { free: number; floor: number };
  /** ms since the epoch. */
  now: number;
}

export interface DeployPlan {
  ref: string;
  sha: string;
  action: 'reuse' | 'build';
  /** The existing deployment a reuse activates. */
  reuse: string | null;
  /** The build commands a build runs, in the new deployment's directory. */
  commands: string[][];
  /** What becomes active. For a build a would-be name: the real one is claimed as the build starts. */
  active: string;
  activeClaimed: boolean;
  previous: string | null;
  prune: string[];
  lock: { free: boolean; locks: LockCheck[] };
  /** Checked only before a build: a reuse writes next to nothing. */
  disk: { free: number; floor: number; ok: boolean; checked: boolean };
  steps: StepName[];
}

/** A good deployment of the same commit built by the same commands; Go mfd's dirs count as such. */
export function findReusable(deployments: readonly Deployment[], sha: string, fingerprint: string): Deployment | undefined {
  return deployments.find((d) => d.sha === sha && isGood(d) && (d.state === 'adopted' || d.record?.fingerprint === fingerprint));
}

/** What a deploy decides once its ref is resolved: the part of the plan the deploy itself executes. */
export type DeployDecision = Pick<DeployPlan, 'action' | 'reuse' | 'commands' | 'active' | 'activeClaimed' | 'previous' | 'prune' | 'steps'>;

export function decideDeploy(
  facts: Pick<DeployFacts, 'resolved' | 'deployments' | 'active' | 'now'>,
  config: Pick<Config, 'build' | 'deploy' | 'systemd' | 'health'>,
): DeployDecision {
  const { resolved, deployments, now } = facts;
  const reusable = findReusable(deployments, resolved.sha, fingerprintCommands(config.build.commands));
  let active: string;
  let after: readonly Deployment[] = deployments;
  if (reusable) active = reusable.name;
  else {
    // As claimDeployment names it: the first second from now whose name is free.
    const names = new Set(deployments.map((d) => d.name));
    let s = Math.floor(now / 1000);
    while (names.has(formatDeploymentName(s, resolved.sha))) s++;
    active = formatDeploymentName(s, resolved.sha);
    // Dated as its record will be, to the millisecond: within one second, orderNewestFirst orders
    // by the records' times, and the second of the name alone would sort it before its elders.
    after = [...deployments, { name: active, createdAt: now / 1000, sha: resolved.sha, state: 'built' }];
  }
  const prune = planPrune(after, { active, previous: facts.active, keep: config.deploy.keep, now }).remove.map((d) => d.name);
  const steps: StepName[] = [
    'resolve',
    ...(reusable ? [] : (['fetch', 'checkout', 'build'] as const)),
    'activate',
    ...(config.systemd.unit ? (['restart'] as const) : []),
    ...(config.health ? (['health'] as const) : []),
    ...(prune.length > 0 ? (['prune'] as const) : []),
  ];
  return {
    action: reusable ? 'reuse' : 'build',
    reuse: reusable?.name ?? null,
    commands: config.build.commands.map((c) => [...c]),
    active,
    activeClaimed: !!reusable,
    previous: facts.active ?? null,
    prune,
    steps,
  };
}

export function composeDeployPlan(facts: DeployFacts, config: Pick<Config, 'build' | 'deploy' | 'systemd' | 'health'>): DeployPlan {
  // Steps last, as --json has always shown them.
  const { steps, ...decision } = decideDeploy(facts, config);
  return {
    ref: facts.ref ?? facts.resolved.ref,
    sha: facts.resolved.sha,
    ...decision,
    lock: { free: facts.locks.every((l) => l.state !== 'held'), locks: facts.locks },
    disk: { ...facts.disk, ok: facts.disk.free >= facts.disk.floor, checked: decision.action === 'build' },
    steps,
  };
}

/** What `mfd deploy REF` would do now. Throws a UsageError for a REF only a fetch could resolve. */
export async function planDeploy(ctx: Context, ref: string | undefined): Promise<DeployPlan> {
  const { layout, config } = ctx;
  const warn = (m: string, h?: string) => ctx.reporter.warn(m, h);
  const now = ctx.now();
  const resolved = await resolveWithoutFetch(ctx, ref);
  const [deployments, active, locks, disk] = await Promise.all([
    listDeployments(layout, { now, onWarning: warn }),
    readActive(layout, warn),
    inspectLocks(ctx),
    inspectFreeSpace(layout.root, config.deploy.minFreeBytes),
  ]);
  return composeDeployPlan({ ref, resolved, deployments, active, locks, disk: { free: disk.free, floor: disk.floor }, now }, config);
}

/**
 * A branch, tag or HEAD costs one ref advertisement; a full sha nothing. A short sha or REF~N
 * needs history fetched into .mfd/repo.git: the dry run refuses those rather than write the cache
 * (resolveRef calls its cache lock exactly before such a fetch).
 */
async function resolveWithoutFetch(ctx: Context, ref: string | undefined): Promise<{ sha: string; ref: string }> {
  const sha = ref === undefined ? undefined : fullSha(ref);
  if (sha) return { sha, ref: ref! };
  const refuse: CacheLock = () =>
    Promise.reject(new UsageError(`a dry run cannot resolve "${ref}" without fetching history into .mfd/repo.git`,
      `name a branch, a tag or a full sha; "mfd resolve ${ref}" fetches what it needs and prints the full sha`));
  const git = await import('../git/git.ts');
  return git.resolveRef({ remote: remoteOf(ctx.config), gitdir: ctx.layout.repo, ref, branch: ctx.config.repo.branch, lock: refuse });
}

/** Each lock a deploy would take, looked at, not taken. */
async function inspectLocks(ctx: Context): Promise<LockCheck[]> {
  const options = { staleMs: ctx.config.lock.staleMs, now: ctx.now, host: ctx.identity.host };
  return Promise.all(planLocks(ctx.layout, ctx.config.lock).map(async (spec): Promise<LockCheck> => {
    const state = await ctx.lockBackend.inspect(spec, options);
    if (!state) return { name: spec.name, file: spec.file, state: 'free', owner: null, reason: null };
    return { name: spec.name, file: spec.file, state: state.stale ? 'stale' : 'held', owner: state.owner ?? null, reason: state.stale || null };
  }));
}
