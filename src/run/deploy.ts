// `mfd deploy`: recover, resolve, then execute the plan `mfd deploy --dry-run` prints (run/plan.ts)
// step by step: (reuse | fetch → checkout → build) → activate → restart → prune, each step's body in
// run/deploy-steps.ts. `active` changes only once a build is complete, and a failed restart puts the previous deployment back.
import type { Context } from '../context.ts';
import { fingerprintCommands } from '../steps/fingerprint.ts';
import { fullSha } from '../git/revision.ts';
import { DeploySupersededError, InterruptedError, throwIfInterrupted } from '../errors/index.ts';
import { recover, reportRecovery } from './recover.ts';
import { listDeployments } from '../state/record.ts';
import type { RunLog } from '../state/runlog.ts';
import { recordRun } from './record-run.ts';
import { decideDeploy } from './plan.ts';
import { lockRequest, planLocks, withDeployLock } from '../lock/policy.ts';
import { readActive } from '../steps/activate.ts';
import { remoteOf } from '../git/remote.ts';
import { startDeployDiscovery, startFetchDiscovery } from '../git/prefetch.ts';
import { connect, type Connection } from '../git/transport.ts';
import type { ResolvedRef } from '../git/resolve.ts';
import { noteDeployFailure, releaseQuarantine } from './quarantine-mark.ts';
import type { StepName } from '../sys/events.ts';
import { cacheLock, failBuild, loadGit, stopped, STEP_BODIES, UNTOUCHED, type BodyName, type DeployState } from './deploy-steps.ts';

export interface DeployResult {
  sha: string;
  ref: string;
  deployment: string;
  reused: boolean;
  previous: string | undefined;
  pruned: string[];
  logFile: string;
}

/** What the deploy loop (cd/) adds to a deploy; a deploy typed at the command line has none. */
export interface AutoDeploy {
  /** For the history line: "poll", "webhook <delivery id>", "manual" (a poke by hand). */
  trigger: string;
  /** The head the loop resolved with its one ref advertisement: the deploy asks the remote nothing more. */
  resolved: ResolvedRef;
  /** Asked holding the lock, before any change: a reason not to deploy after all (a manual run got there first). */
  recheck: () => Promise<string | undefined>;
}

/**
 * A deploy typed at the command line clears the commit's quarantine mark once it is deployed; any deploy whose commit
 * fails (build, restart, health) marks it, so the loop never deploys that commit again by itself.
 */
export async function deploy(ctx: Context, ref: string | undefined, auto?: AutoDeploy): Promise<DeployResult> {
  return recordRun(ctx, 'deploy', ref, (ctx, run) =>
    withDeployLock(planLocks(ctx.layout, ctx.config.lock), { ...ctx.config.lock, wait: ctx.wait }, lockRequest(ctx, 'deploy', ref), () => deployLocked(ctx, ref, run.log, auto)),
    auto?.trigger,
  );
}

async function deployLocked(ctx: Context, ref: string | undefined, log: RunLog, auto: AutoDeploy | undefined): Promise<DeployResult> {
  reportRecovery(ctx, await recover(ctx.layout, ctx.now, ctx.identity.pid, (m, h) => ctx.reporter.warn(m, h)));
  if (auto) {
    const why = await auto.recheck();
    if (why) throw new DeploySupersededError(auto.resolved.sha, why);
  }
  // The run's signal goes with it: Ctrl-C cuts a fetch or resolve under way instead of waiting it out.
  // One connection for the resolve and the fetch; whatever it sent ahead and nobody took is cut at the end.
  const conn = connect({ ...remoteOf(ctx.config), signal: ctx.signal });
  try {
    return await deployWith(ctx, ref, log, auto, conn);
  } finally {
    conn.discard();
  }
}

async function deployWith(ctx: Context, ref: string | undefined, log: RunLog, auto: AutoDeploy | undefined, conn: Connection): Promise<DeployResult> {
  const { layout, config, reporter } = ctx;

  // A full sha needs no remote, and a redeploy of a built one needs no git at all: git.ts (and
  // isomorphic-git with it) is loaded only when something has to be asked of the remote or fetched.
  const sha = ref === undefined ? undefined : fullSha(ref);
  const resolved = await reporter.step('resolve', ref ?? config.repo.branch ?? 'HEAD', async () =>
    auto ? auto.resolved : sha ? { sha, ref: ref! } : resolveRemote(ctx, conn, ref)
      .catch((error: unknown) => {
        // A transfer cut by Ctrl-C fails as a network error: the interruption is the outcome.
        throwIfInterrupted(ctx.signal, UNTOUCHED);
        throw error;
      }),
    (r) => `${ref ?? r.ref} → ${r.sha}`,
  );
  await reporter.handle({ type: 'resolved', ref: ref ?? resolved.ref, sha: resolved.sha });
  throwIfInterrupted(ctx.signal, UNTOUCHED);

  const now = ctx.now();
  const plan = decideDeploy({ resolved, deployments: await listDeployments(layout, { now }), active: await readActive(layout), now }, config);
  if (plan.steps.includes('fetch')) {
    startFetchDiscovery(conn, layout.repo, resolved.sha);
    await conn.discoverySent();
  }
  const state: DeployState = { ctx, ref, conn, resolved, fingerprint: fingerprintCommands(config.build.commands), log, name: plan.active, pruned: [] };
  if (plan.reuse) reporter.info(`reusing ${plan.reuse}: already built from ${resolved.sha}, no fetch or build`);
  for (const body of bodiesOf(plan.steps)) {
    try {
      await STEP_BODIES[body](state);
    } catch (caught) {
      const error = state.building ? await failBuild(state, caught) : caught;
      await noteDeployFailure(ctx, resolved.sha, error);
      // Stopped once the commit was active and up: it was deployed all the same.
      if (!auto && error instanceof InterruptedError && error.active?.sha === resolved.sha) await releaseQuarantine(ctx, resolved.sha);
      throw error;
    }
  }
  // Only once it is deployed: a manual deploy that fails or is stopped before leaves the mark, or
  // the loop would deploy by itself the commit that was kept away, a minute after "active is untouched".
  if (!auto) await releaseQuarantine(ctx, resolved.sha);
  stopped(state, 'at the end of the deploy');
  reporter.info(`deployed ${resolved.sha} (${ref ?? resolved.ref}) as ${state.name}`);
  return { sha: resolved.sha, ref: ref ?? resolved.ref, deployment: state.name, reused: !!plan.reuse, previous: state.previous, pruned: state.pruned, logFile: log.file };
}

/** A name resolved with its listing already asked for, while isomorphic-git loads. */
async function resolveRemote(ctx: Context, conn: Connection, ref: string | undefined): Promise<ResolvedRef> {
  startDeployDiscovery(conn, ref ?? ctx.config.repo.branch);
  await conn.discoverySent();
  const git = await loadGit();
  return git.resolveRef({ conn, gitdir: ctx.layout.repo, ref, branch: ctx.config.repo.branch, lock: cacheLock(ctx, ref) });
}

/**
 * The bodies that execute a plan's steps, in its order. Resolve has run already; health runs within
 * restart's body (a failure of either rolls back). Restart's and prune's bodies run even when the
 * plan has no such step: they then report it skipped (and prune still trims the history files).
 */
export function bodiesOf(steps: readonly StepName[]): BodyName[] {
  const bodies: BodyName[] = [];
  const add = (b: BodyName) => { if (!bodies.includes(b)) bodies.push(b); };
  for (const step of steps) {
    if (step === 'resolve' || step === 'rollback') continue;
    add(step === 'health' ? 'restart' : step);
    if (step === 'activate') add('restart');
  }
  add('prune');
  return bodies;
}
