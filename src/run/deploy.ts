// `mfd deploy`, as a list of steps: recover → resolve → (reuse | fetch → checkout → build) →
// activate → restart → prune. `active` changes only once a build is complete, and a restart that
// fails puts the previous deployment back.
import { rm } from 'node:fs/promises';
import { activate, readActive } from '../steps/activate.ts';
import { runBuild } from '../steps/build.ts';
import type { Context } from '../context.ts';
import { claimDeployment } from '../steps/claim.ts';
import { fingerprintCommands } from '../steps/fingerprint.ts';
import { fullSha } from '../git/revision.ts';
import { InterruptedError, interruptionOf, isDiskFull, throwIfInterrupted, toFsError } from '../errors/index.ts';
import { bestEffort, describeFailure } from '../state/best-effort.ts';
import { applyPrune, planPrune } from '../steps/prune.ts';
import { recover, reportRecovery } from './recover.ts';
import { trimActivations, listDeployments, writeRecord, type DeploymentRecord } from '../state/record.ts';
import type { RunLog } from '../state/runlog.ts';
import { trimHistory } from '../state/history.ts';
import { recordRun } from './record-run.ts';
import { findReusable } from './plan.ts';
import { lockRequest, planLocks, withCacheLock, withDeployLock } from '../lock/policy.ts';
import type { CacheLock } from '../git/git.ts';
import { recordActivation, restartActive } from './restart.ts';
import { processStart } from '../sys/process.ts';
import { checkFreeSpace } from '../steps/disk.ts';
import { remoteOf, type Remote } from '../git/remote.ts';

export interface DeployResult {
  sha: string;
  ref: string;
  deployment: string;
  reused: boolean;
  previous: string | undefined;
  pruned: string[];
  logFile: string;
}

export async function deploy(ctx: Context, ref: string | undefined): Promise<DeployResult> {
  return recordRun(ctx, 'deploy', ref, (ctx, run) =>
    withDeployLock(planLocks(ctx.layout, ctx.config.lock), { ...ctx.config.lock, wait: ctx.wait }, lockRequest(ctx, 'deploy', ref), () => deployLocked(ctx, ref, run.log)),
  );
}

async function deployLocked(ctx: Context, ref: string | undefined, log: RunLog): Promise<DeployResult> {
  const { layout, config, reporter } = ctx;
  reportRecovery(ctx, await recover(layout, ctx.now, ctx.identity.pid, (m, h) => reporter.warn(m, h)));
  // The run's signal goes with it: Ctrl-C cuts a fetch or resolve under way instead of waiting it out.
  const remote = { ...remoteOf(config), signal: ctx.signal };

  // A full sha needs no remote, and a redeploy of a built one needs no git at all: git.ts (and
  // isomorphic-git with it) is loaded only when something has to be asked of the remote or fetched.
  const sha = ref === undefined ? undefined : fullSha(ref);
  const resolved = await reporter.step('resolve', ref ?? config.repo.branch ?? 'HEAD', async () =>
    sha ? { sha, ref: ref! } : (await loadGit()).resolveRef({ remote, gitdir: layout.repo, ref, branch: config.repo.branch, lock: cacheLock(ctx, ref) })
      .catch((error: unknown) => {
        // A transfer cut by Ctrl-C fails as a network error: the interruption is the outcome.
        throwIfInterrupted(ctx.signal, UNTOUCHED);
        throw error;
      }),
    (r) => `${ref ?? r.ref} → ${r.sha}`,
  );
  throwIfInterrupted(ctx.signal, UNTOUCHED);

  const fingerprint = fingerprintCommands(config.build.commands);
  const deployments = await listDeployments(layout, { now: ctx.now() });
  const reusable = findReusable(deployments, resolved.sha, fingerprint);
  let name: string;
  if (reusable) {
    name = reusable.name;
    reporter.info(`reusing ${name}: already built from ${resolved.sha}, no fetch or build`);
  } else {
    name = await buildDeployment(ctx, remote, resolved, fingerprint, log);
  }

  const previous = await readActive(layout);
  // Recorded within the step: once it has ended, the activation is on record too.
  await reporter.step('activate', name, async () => {
    await activate(layout, name);
    await recordActivation(ctx, { name, sha: resolved.sha, at: new Date(ctx.now()).toISOString(), command: 'deploy' });
  }, { guard: () => throwIfInterrupted(ctx.signal, UNTOUCHED) });

  // Once active has moved, an interruption no longer cuts anything short: the restart and its
  // checks (and the way back, should they fail) run to the end, so the app is never left on a
  // deployment nobody restarted or verified. Only pruning is skipped.
  await restartActive(steady(ctx), { name, previous, sha: resolved.sha });
  const stopped = (where: string) => {
    const interruption = interruptionOf(ctx.signal);
    if (interruption) throw new InterruptedError(interruption.signal, `${where}: ${name} (${resolved.sha}) is active and came up`, { sha: resolved.sha, deployment: name }, `to go back to the previous deployment: mfd rollback`);
  };
  stopped('after activation; old deployments were not pruned');

  const pruned = await prune(ctx, name, previous);
  stopped('at the end of the deploy');
  reporter.info(`deployed ${resolved.sha} (${ref ?? resolved.ref}) as ${name}`);
  return { sha: resolved.sha, ref: ref ?? resolved.ref, deployment: name, reused: !!reusable, previous, pruned, logFile: log.file };
}

const loadGit = () => import('../git/git.ts');
const UNTOUCHED = 'before activation; active is untouched';
/** The context with a signal that never aborts: for steps that must finish once begun. */
const steady = (ctx: Context): Context => ({ ...ctx, signal: new AbortController().signal });
const cacheLock = (ctx: Context, ref: string | undefined): CacheLock => (work) => withCacheLock(ctx.layout, ctx.config.lock.staleMs, lockRequest(ctx, 'deploy', ref), work);

async function buildDeployment(
  ctx: Context,
  remote: Remote,
  resolved: { sha: string; ref: string },
  fingerprint: string,
  log: RunLog,
): Promise<string> {
  const { layout, config, reporter } = ctx;
  const git = await loadGit();
  const cache = git.newCache();
  const stamp = () => new Date(ctx.now()).toISOString();
  const pidStart = await processStart(ctx.identity.pid);
  await checkFreeSpace(layout.root, config.deploy.minFreeBytes);
  // A fresh name and directory, never an existing one (the active deployment may share the second).
  let record!: DeploymentRecord;
  const name = await claimDeployment(layout, ctx.now() / 1000, resolved.sha, (candidate) => {
    record = {
      name: candidate, sha: resolved.sha, ref: resolved.ref, fingerprint, state: 'building',
      createdAt: stamp(), updatedAt: stamp(), pid: ctx.identity.pid, pidStart, runId: log.runId,
    };
    return writeRecord(layout, record);
  });
  const dir = layout.deployment(name);
  let pending: Promise<void> = Promise.resolve();
  try {
    await reporter.step('fetch', resolved.sha.slice(0, 12), () => git.fetchCommit({ remote, gitdir: layout.repo, sha: resolved.sha, cache, lock: cacheLock(ctx, resolved.ref) }),
      (r) => `${resolved.sha.slice(0, 12)} ${r.fetched ? 'into .mfd/repo.git' : 'already cached'}${r.repaired ? `; removed ${r.repaired} damaged pack(s) an interrupted run left` : ''}`);
    throwIfInterrupted(ctx.signal, UNTOUCHED);
    // Unchanged files are taken from the active deployment, each verified by its blob id.
    const active = await readActive(layout);
    const reuseFrom = active !== undefined && active !== name ? layout.deployment(active) : undefined;
    const checkedOut = await reporter.step('checkout', name, () => git.checkoutCommit({ gitdir: layout.repo, sha: resolved.sha, dir, cache, ...(reuseFrom ? { reuseFrom } : {}) }),
      (st) => (st.reused > 0 ? `${name} (${st.reused} of ${st.files} files unchanged, taken from ${active})` : name));
    warnUndeployed(ctx, checkedOut);
    throwIfInterrupted(ctx.signal, UNTOUCHED);
    await reporter.step('build', `${config.build.commands.length} command(s)`, () =>
      runBuild({
        dir,
        commands: config.build.commands,
        baseEnv: ctx.env,
        env: { MFD_COMMIT: resolved.sha, MFD_REF: resolved.ref, MFD_DEPLOYMENT_DIR: dir },
        timeoutMs: config.build.timeoutMs,
        signal: ctx.signal,
        logFile: log.file,
        onCommand: (argv) => reporter.info(`$ ${argv.join(' ')}`),
        onSpawn: (pgid, start) => {
          // Chained: two writes of one record must not race on its temp file. Without a start
          // time (no /proc) the group is never signalled by recovery: its identity is unprovable.
          pending = pending.then(() => writeRecord(layout, { ...record, buildPgid: pgid, buildPgidStart: start }));
        },
        onOutput: (chunk) => reporter.childOutput(chunk),
      }),
    );
    await pending;
    // A build that ran while mfd could not write for lack of space may be cut short too.
    if (isDiskFull(log.failure)) throw toFsError(log.failure, { path: log.file, op: 'write', root: layout.root });
    throwIfInterrupted(ctx.signal, UNTOUCHED);
    await writeRecord(layout, { ...record, state: 'built', updatedAt: stamp(), pid: undefined });
  } catch (caught) {
    await pending.catch(() => undefined); // its failure is a record write; the one below supersedes it
    // Interrupted (the build was stopped, or a step ended since): that is the outcome, whatever
    // failed. Out of space, the build's own failure is a symptom: the full disk is (exit 9).
    const interruption = interruptionOf(ctx.signal);
    const error = interruption
      ? new InterruptedError(interruption.signal, `while building ${name}, which is recorded failed and removed; active is untouched`)
      : !isDiskFull(caught) && isDiskFull(log.failure) ? toFsError(log.failure, { path: log.file, op: 'write', root: layout.root })! : caught;
    // A failed directory must never be reused or activated. It goes first (on a full disk that
    // frees the space the record needs); should the record still fail, no directory is left marked
    // building, and recover() settles the record.
    await rm(dir, { recursive: true, force: true }).catch(() => undefined); // a leftover is marked failed below, and pruned
    await bestEffort(reporter, `could not mark ${name} failed`, 'its directory is removed; the next mfd command settles the record', () =>
      writeRecord(layout, { ...record, state: 'failed', updatedAt: stamp(), pid: undefined, error: errorText(error) }));
    throw error;
  }
  return name;
}

async function prune(ctx: Context, active: string, previous: string | undefined): Promise<string[]> {
  const { layout, reporter, config } = ctx;
  // Bounded history too: rare (see trimHistory), and like pruning never a reason to fail.
  await trimHistory(layout).catch((error: unknown) => reporter.warn(`could not trim .mfd/history.jsonl: ${errorText(error)}`));
  await trimActivations(layout).catch((error: unknown) => reporter.warn(`could not trim .mfd/activations.jsonl: ${errorText(error)}`));
  try {
    const plan = planPrune(await listDeployments(layout, { now: ctx.now() }), { active, previous, keep: config.deploy.keep, now: ctx.now() });
    if (plan.remove.length === 0) {
      await reporter.skip('prune');
      return [];
    }
    const outcome = await reporter.step('prune', `${plan.remove.length} old deployment(s)`, () => applyPrune(layout, plan),
      (r) => `removed ${r.removed.length}, kept the newest ${config.deploy.keep}`);
    for (const f of outcome.failures) reporter.warn(`could not remove ${f.name}: ${f.reason}`, `remove it by hand: rm -rf ${layout.deployment(f.name)}`);
    return outcome.removed;
  } catch (error) {
    reporter.warn(`prune failed: ${errorText(error)}`, 'the deploy succeeded; old deployments are removed on the next one');
    return [];
  }
}

/** Submodules and LFS pointers are checked out as `git archive` does them: say so, they are easy to miss. */
function warnUndeployed(ctx: Context, st: { submodules: string[]; lfsPointers: string[] }): void {
  const some = (paths: string[]) => `${paths.slice(0, 3).join(', ')}${paths.length > 3 ? `, and ${paths.length - 3} more` : ''}`;
  if (st.submodules.length > 0) {
    ctx.reporter.warn(`${st.submodules.length} submodule(s) not deployed (left empty): ${some(st.submodules)}`,
      'mfd deploys only this repository; vendor the code into it, or fetch it in a build command');
  }
  if (st.lfsPointers.length > 0) {
    ctx.reporter.warn(`${st.lfsPointers.length} Git LFS file(s) deployed as pointer files: ${some(st.lfsPointers)}`,
      'mfd does not fetch LFS objects: commit those files without LFS, or download them in a build command');
  }
}

function errorText(error: unknown): string {
  return describeFailure(error).message;
}

