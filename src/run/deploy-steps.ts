// The bodies of a deploy's named steps, one function each, sharing one DeployState: run/deploy.ts
// runs them in the order its plan names them. A failure from the claim to the end of the build
// goes through failBuild, so a half-built deployment is never left marked building.
import { rm } from '../sys/files.ts';
import { activate, readActive } from '../steps/activate.ts';
import { runBuild } from '../steps/build.ts';
import { cacheFor } from '../steps/build-cache-sources.ts';
import type { Context } from '../context.ts';
import { claimDeployment } from '../steps/claim.ts';
import { InterruptedError, interruptionOf, isDiskFull, throwIfInterrupted, toFsError } from '../errors/index.ts';
import { bestEffort, describeFailure } from '../state/best-effort.ts';
import { applyPrune, planPrune } from '../steps/prune.ts';
import { trimActivations, listDeployments, writeRecord, type DeploymentRecord } from '../state/record.ts';
import type { RunLog } from '../state/runlog.ts';
import { trimHistory } from '../state/history.ts';
import { withCacheLock, lockRequest } from '../lock/policy.ts';
import type { CacheLock } from '../git/git.ts';
import { recordActivation, requireListeningSocket, restartActive } from './restart.ts';
import { processStart } from '../sys/process.ts';
import { preloadExec } from '../sys/exec.ts';
import { checkFreeSpace } from '../steps/disk.ts';
import type { Connection } from '../git/transport.ts';

export interface DeployState {
  readonly ctx: Context;
  readonly ref: string | undefined;
  /** The remote's connection (the run's signal cuts its transfers); a discovery it sent ahead (git/prefetch.ts) is the fetch's to take. */
  readonly conn: Connection;
  readonly resolved: { sha: string; ref: string };
  readonly fingerprint: string;
  readonly log: RunLog;
  /** The deployment that becomes active: the reused one, or the one the fetch step claims. */
  name: string;
  /** Set from the claim until the build is recorded built. */
  building?: { record: DeploymentRecord; dir: string; git: Git; cache: object; pending: Promise<void> };
  previous?: string;
  pruned: string[];
}

/** The steps with a body of their own: resolve runs before the plan exists, health within restart. */
export type BodyName = 'fetch' | 'checkout' | 'build' | 'activate' | 'restart' | 'prune';
type Git = typeof import('../git/git.ts');

export const loadGit = (): Promise<Git> => import('../git/git.ts');
export const UNTOUCHED = 'before activation; active is untouched';
/** The context with a signal that never aborts: for steps that must finish once begun. */
const steady = (ctx: Context): Context => ({ ...ctx, signal: new AbortController().signal });
export const cacheLock = (ctx: Context, ref: string | undefined): CacheLock => (work) => withCacheLock(ctx.layout, ctx.config.lock.staleMs, lockRequest(ctx, 'deploy', ref), work);
const stamp = (ctx: Context) => new Date(ctx.now()).toISOString();

export const STEP_BODIES: Record<BodyName, (s: DeployState) => Promise<void>> = {
  /** Claims a fresh name and directory (never an existing one: the active deployment may share the second), then fetches. */
  async fetch(s) {
    const { ctx, resolved } = s;
    const { layout, config, reporter } = ctx;
    const git = await loadGit();
    const cache = git.newCache();
    const pidStart = await processStart(ctx.identity.pid);
    await checkFreeSpace(layout.root, config.deploy.minFreeBytes);
    let record!: DeploymentRecord;
    s.name = await claimDeployment(layout, ctx.now() / 1000, resolved.sha, (candidate) => {
      record = {
        name: candidate, sha: resolved.sha, ref: resolved.ref, fingerprint: s.fingerprint, state: 'building',
        createdAt: stamp(ctx), updatedAt: stamp(ctx), pid: ctx.identity.pid, pidStart, runId: s.log.runId,
      };
      return writeRecord(layout, record);
    });
    s.building = { record, dir: layout.deployment(s.name), git, cache, pending: Promise.resolve() };
    await reporter.step('fetch', resolved.sha.slice(0, 12), () => git.fetchCommit({
      conn: s.conn, gitdir: layout.repo, sha: resolved.sha, cache, lock: cacheLock(ctx, resolved.ref),
      // The build's process library loads while the server packs, not before the first command.
      ...(config.build.commands.length > 0 ? { whilePacking: preloadExec } : {}),
    }),
      (r) => `${resolved.sha.slice(0, 12)} ${r.fetched ? 'into .mfd/repo.git' : 'already cached'}${r.repaired ? `; removed ${r.repaired} damaged pack(s) an interrupted run left` : ''}${r.startedOver ? '; started the cache over, as a checkout had found objects missing' : ''}`);
    throwIfInterrupted(ctx.signal, UNTOUCHED);
  },

  /** Unchanged files are taken from the active deployment, each verified by its blob id. */
  async checkout(s) {
    const { ctx, name } = s;
    const { git, cache, dir } = s.building!;
    const active = await readActive(ctx.layout);
    const reuseFrom = active !== undefined && active !== name ? ctx.layout.deployment(active) : undefined;
    const checkedOut = await ctx.reporter.step('checkout', name, () => git.checkoutCommit({ gitdir: ctx.layout.repo, sha: s.resolved.sha, dir, cache, ...(reuseFrom ? { reuseFrom } : {}) }),
      (st) => (st.reused > 0 ? `${name} (${st.reused} of ${st.files} files unchanged, taken from ${active})` : name));
    warnUndeployed(ctx, checkedOut);
    throwIfInterrupted(ctx.signal, UNTOUCHED);
  },

  async build(s) {
    const { ctx, resolved, log } = s;
    const { layout, config, reporter } = ctx;
    const building = s.building!;
    const { dir, record } = building;
    const buildEnv = { MFD_COMMIT: resolved.sha, MFD_REF: resolved.ref, MFD_DEPLOYMENT_DIR: dir };
    // Keyed by the environment the commands see: [[build.cache]] env may name MFD_COMMIT too.
    const cache = await cacheFor({ layout, entries: config.build.cache, name: s.name, dir, env: { ...ctx.env, ...buildEnv }, now: ctx.now(), onWarning: (m, h) => reporter.warn(m, h) });
    await reporter.step('build', `${config.build.commands.length} command(s)`, () =>
      runBuild({
        ...(cache ? { cache } : {}),
        // One event for the line and the history's record of it (history-line.ts).
        onReuse: (argv, reuse) => void reporter.handle({ type: 'info', message: reuseLine(argv, reuse), reuse: { command: reuse.command, argv: [...argv], from: reuse.from, outputs: [...reuse.outputs] } }),
        dir,
        commands: config.build.commands,
        baseEnv: ctx.env,
        env: buildEnv,
        timeoutMs: config.build.timeoutMs,
        signal: ctx.signal,
        logFile: log.file,
        onCommand: (argv) => reporter.info(`$ ${argv.join(' ')}`),
        onSpawn: (pgid, start) => {
          // Chained: two writes of one record must not race on its temp file. Without a start
          // time (no /proc) the group is never signalled by recovery: its identity is unprovable.
          building.pending = building.pending.then(() => writeRecord(layout, { ...record, buildPgid: pgid, buildPgidStart: start }));
          // Awaited once the build ends (below, or by failBuild). A write that fails while the build
          // still runs (a full disk) must not count as unhandled meanwhile: that would crash mfd.
          building.pending.catch(() => undefined);
        },
        onOutput: (chunk) => reporter.childOutput(chunk),
        onWarning: (message, hint) => reporter.warn(message, hint),
      }),
    { done: (t) => [`${t.length} command(s)`, ...t.filter((c) => c.reusedFrom).map((c) => `${c.argv.join(' ')} reused from ${c.reusedFrom}`)].join('; ') });
    await building.pending;
    // A build that ran while mfd could not write for lack of space may be cut short too.
    if (isDiskFull(log.failure)) throw toFsError(log.failure, { path: log.file, op: 'write', root: layout.root });
    throwIfInterrupted(ctx.signal, UNTOUCHED);
    await writeRecord(layout, { ...record, state: 'built', updatedAt: stamp(ctx), pid: undefined, ...(cache && cache.keys.length > 0 ? { cacheKeys: [...cache.keys] } : {}) });
    s.building = undefined;
  },

  /** Recorded within the step: once it has ended, the activation is on record too. */
  async activate(s) {
    const { ctx, name } = s;
    s.previous = await readActive(ctx.layout);
    await requireListeningSocket(ctx, 'active is untouched');
    await ctx.reporter.step('activate', name, async () => {
      await activate(ctx.layout, name);
      await recordActivation(ctx, { name, sha: s.resolved.sha, at: stamp(ctx), command: 'deploy' });
    }, { guard: () => throwIfInterrupted(ctx.signal, UNTOUCHED) });
  },

  // Once active has moved, an interruption no longer cuts anything short: the restart and its
  // checks (and the way back, should they fail) run to the end, so the app is never left on a
  // deployment nobody restarted or verified. Only pruning is skipped.
  async restart(s) {
    await restartActive(steady(s.ctx), { name: s.name, previous: s.previous, sha: s.resolved.sha });
    stopped(s, 'after activation; old deployments were not pruned');
  },

  async prune(s) {
    s.pruned = await prune(s.ctx, s.name, s.previous);
  },
};

/** Throws if the run was interrupted once `name` is active and up. */
export function stopped(s: DeployState, where: string): void {
  const interruption = interruptionOf(s.ctx.signal);
  if (interruption) throw new InterruptedError(interruption.signal, `${where}: ${s.name} (${s.resolved.sha}) is active and came up`, { sha: s.resolved.sha, deployment: s.name }, `to go back to the previous deployment: mfd rollback`);
}

/** A failure while building: the deployment is removed and recorded failed; returns the error that is the outcome. */
export async function failBuild(s: DeployState, caught: unknown): Promise<unknown> {
  const { ctx, name, log } = s;
  const { layout, reporter } = ctx;
  const { dir, record, pending } = s.building!;
  s.building = undefined;
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
    writeRecord(layout, { ...record, state: 'failed', updatedAt: stamp(ctx), pid: undefined, error: errorText(error) }));
  return error;
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
    for (const f of outcome.failures) reporter.warn(`could not remove ${f.name}: ${f.reason}`, `remove it by hand: rm -rf ${f.path}`);
    return outcome.removed;
  } catch (error) {
    reporter.warn(`prune failed: ${errorText(error)}`, 'the deploy succeeded; old deployments are removed on the next one');
    return [];
  }
}

/** The step line of a command whose outputs were copied instead of built. */
function reuseLine(argv: readonly string[], reuse: { from: string; outputs: readonly string[] }): string {
  return `build: ${argv.join(' ')} skipped: ${reuse.outputs.join(', ')} reused from ${reuse.from} (inputs unchanged)`;
}

/** Submodules and LFS pointers are checked out as `git archive` does them: say so, they are easy to miss. */
function warnUndeployed(ctx: Context, st: { submodules: string[]; lfsPointers: string[] }): void {
  const some = (paths: string[]) => `${paths.slice(0, 3).map(shownPath).join(', ')}${paths.length > 3 ? `, and ${paths.length - 3} more` : ''}`;
  if (st.submodules.length > 0) {
    ctx.reporter.warn(`${st.submodules.length} submodule(s) not deployed (left empty): ${some(st.submodules)}`,
      'mfd deploys only this repository; vendor the code into it, or fetch it in a build command');
  }
  if (st.lfsPointers.length > 0) {
    ctx.reporter.warn(`${st.lfsPointers.length} Git LFS file(s) deployed as pointer files: ${some(st.lfsPointers)}`,
      'mfd does not fetch LFS objects: commit those files without LFS, or download them in a build command');
  }
}

/**
 * A path of the tree as a warning shows it: quoted and escaped, as git's core.quotePath does, when
 * it holds a control character (git allows any byte in a name but "/" and NUL), so a name can
 * neither start a line of its own, posing as a hint, nor reach the terminal as an escape sequence.
 */
function shownPath(path: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(path)) return path;
  // JSON escapes C0 controls only; DEL, C1 (U+009B is a CSI to some terminals) and line separators too.
  return JSON.stringify(path).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function errorText(error: unknown): string {
  return describeFailure(error).message;
}

