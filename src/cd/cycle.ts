// One run of the deploy loop: unless paused, resolve the branch head with one ref advertisement and
// deploy it when it is neither active nor quarantined. A run with nothing to do writes nothing;
// one that deploys takes the lock (waiting for a manual deploy) and is recorded like a manual one.
import type { Context } from '../context.ts';
import { DeploySupersededError, MfdError, toFsError } from '../errors/index.ts';
import type { ResolvedRef } from '../git/git.ts';
import { remoteOf } from '../git/remote.ts';
import { deploy } from '../run/deploy.ts';
import { quarantineOutcome } from '../run/quarantine-mark.ts';
import { parseDeploymentName } from '../state/deployment.ts';
import { readPause } from '../state/pause.ts';
import { readQuarantine } from '../state/quarantine.ts';
import { readActive } from '../steps/activate.ts';
import type { Trigger } from './trigger.ts';

export interface RunError {
  code: string;
  message: string;
  hint?: string | undefined;
}

/** How a run ended. `resolve-failed` is what the poller backs off on: the remote or its credentials. */
export type CycleOutcome =
  | { kind: 'paused'; by: string }
  | { kind: 'current'; sha: string }
  | { kind: 'quarantined'; sha: string; reason: string }
  | { kind: 'unreadable'; problem: string }
  | { kind: 'resolve-failed'; error: RunError }
  | { kind: 'deployed'; sha: string; deployment: string }
  /** A deploy or rollback by hand got there first while this run waited for the lock: nothing failed. */
  | { kind: 'superseded'; sha: string; reason: string }
  /** `quarantined`: the commit's own fault, so the deploy marked it and no later poll retries it. */
  | { kind: 'deploy-failed'; sha: string; error: RunError; quarantined: boolean };

/** A delivery id comes from a request header: anything but a plain id is not written as given. */
const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** "poll", "webhook <delivery id>", "manual": the history line's trigger. */
export function describeTrigger(trigger: Trigger): string {
  if (trigger.kind !== 'webhook') return trigger.kind;
  return DELIVERY_ID.test(trigger.delivery) ? `webhook ${trigger.delivery}` : 'webhook (delivery id not shown: not a plain id)';
}

/** `ctx` is this run's own (the loop builds one per run); its signal stops the run. Throws only on bugs. */
export async function runCycle(ctx: Context, trigger: Trigger): Promise<CycleOutcome> {
  try {
    return await cycle(ctx, trigger);
  } catch (error) {
    // The world's fault (a root-owned .mfd, a read-only mount), never "internal error".
    const fsError = toFsError(error, { root: ctx.root });
    if (fsError) return { kind: 'unreadable', problem: fsError.message };
    throw error;
  }
}

async function cycle(ctx: Context, trigger: Trigger): Promise<CycleOutcome> {
  const { layout, config } = ctx;
  const hold = await holdReason(ctx);
  if (hold) return hold;

  // What was active before the head was asked for: a deploy by hand after this may be of a newer head.
  const seen = await readActive(layout);
  let head: ResolvedRef;
  try {
    head = await resolveHead(ctx);
  } catch (error) {
    if (error instanceof MfdError) return { kind: 'resolve-failed', error: runError(error) };
    throw error;
  }
  const skip = await skipReason(ctx, head.sha);
  if (skip) return skip;

  try {
    const result = await deploy(ctx, config.repo.branch, {
      trigger: describeTrigger(trigger),
      resolved: head,
      // Asked again holding the lock: a manual deploy or rollback may have changed the answer while this run waited.
      recheck: async () => {
        const now = (await holdReason(ctx)) ?? (await skipReason(ctx, head.sha));
        if (now) return describeSkip(now);
        // Another run activated something since this one looked: if that was a newer head, the
        // head resolved here is older, and deploying it would put an older commit back. Ask again.
        if ((await readActive(layout)) === seen) return undefined;
        const latest = await resolveHead(ctx);
        return latest.sha === head.sha ? undefined : `the branch head moved on to ${latest.sha} while this run waited`;
      },
    });
    return { kind: 'deployed', sha: result.sha, deployment: result.deployment };
  } catch (error) {
    // Not a failure: no backing off, no 503 from /healthz?last_run; the history line says "refused".
    if (error instanceof DeploySupersededError) return { kind: 'superseded', sha: head.sha, reason: error.reason };
    const known = toFsError(error, { root: ctx.root }) ?? error;
    if (!(known instanceof MfdError)) throw error;
    return { kind: 'deploy-failed', sha: head.sha, error: runError(known), quarantined: quarantineOutcome(known) !== undefined };
  }
}

/** The branch head: the configured branch, else the remote's HEAD; one ls-refs, nothing fetched, nothing written. */
async function resolveHead(ctx: Context): Promise<ResolvedRef> {
  const { config, layout } = ctx;
  // Loaded here, not at the top: `mfd help` loads every command's module, and must not load isomorphic-git.
  const { resolveRef } = await import('../git/git.ts');
  return resolveRef({ remote: { ...remoteOf(config), signal: ctx.signal }, gitdir: layout.repo, ...(config.repo.branch ? { branch: config.repo.branch } : {}) });
}

async function holdReason(ctx: Context): Promise<CycleOutcome | undefined> {
  const pause = await readPause(ctx.layout);
  if (!pause.paused) return undefined;
  return 'record' in pause ? { kind: 'paused', by: `${pause.record.user}@${pause.record.host}` } : { kind: 'unreadable', problem: pause.problem };
}

async function skipReason(ctx: Context, sha: string): Promise<CycleOutcome | undefined> {
  const active = await readActive(ctx.layout);
  if (active && parseDeploymentName(active)?.sha === sha) return { kind: 'current', sha };
  const quarantine = await readQuarantine(ctx.layout);
  if (!quarantine.ok) return { kind: 'unreadable', problem: quarantine.problem };
  const mark = quarantine.marks.get(sha);
  return mark ? { kind: 'quarantined', sha, reason: `${mark.outcome}: ${mark.reason}` } : undefined;
}

/** One line for the log and for a superseded deploy's message. */
export function describeSkip(outcome: CycleOutcome): string {
  switch (outcome.kind) {
    case 'paused':
      return `paused by ${outcome.by} (mfd resume releases it)`;
    case 'current':
      return `${outcome.sha} is active`;
    case 'quarantined':
      return `${outcome.sha} is quarantined (${outcome.reason}); a newer commit, or "mfd deploy ${outcome.sha}", deploys`;
    case 'unreadable':
      return `${outcome.problem}: deploying nothing by itself until it is fixed or removed`;
    case 'resolve-failed':
      return `cannot resolve the branch head: ${outcome.error.message}`;
    case 'deployed':
      return `deployed ${outcome.sha} as ${outcome.deployment}`;
    case 'superseded':
      return `automatic deploy of ${outcome.sha} not started: ${outcome.reason}`;
    case 'deploy-failed':
      return `deploy of ${outcome.sha} failed: ${outcome.error.code}: ${outcome.error.message}`;
  }
}

function runError(error: MfdError): RunError {
  return { code: error.code, message: error.message.split('\n')[0]!, hint: error.hint };
}
