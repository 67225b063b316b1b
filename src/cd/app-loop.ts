// The deploy loop of one app as `mfd watch` and `mfd serve` run it: each run gets a Context of its
// own (a copy of the command's, with the loop's signal and the level log), runs cd/cycle.ts, and
// says how it ended in one line, but only when that differs from the last run's (not once per poll).
import type { Context } from '../context.ts';
import { describeSkip, runCycle, type CycleOutcome } from './cycle.ts';
import { LevelLog, type Level } from './log.ts';
import { DeployLoop } from './loop.ts';
import type { LastRun, Trigger } from './trigger.ts';

export interface AppLoop {
  loop: DeployLoop;
  /** How the latest run ended, whatever poked it; undefined before the first. */
  latest(): CycleOutcome | undefined;
  /**
   * Whether polls should back off after the latest run: it failed for the world's reasons (remote,
   * lock, disk, state files) or crashed, not for a commit's own (quarantined: the next poll skips it).
   */
  failed(): boolean;
}

/** `base`: the command's Context (config, identity, env, test hook); `log`: where every line goes. */
export function createAppLoop(base: Context, log: LevelLog): AppLoop {
  let latest: CycleOutcome | undefined;
  let told: string | undefined;
  // A crash leaves no outcome: without this, the outcome before it would say whether to back off,
  // and a run crashing at every poll would be retried, stack trace and all, at the full rate.
  let crashed = false;
  const loop = new DeployLoop({
    now: base.now,
    onCrash: (error) => {
      crashed = true;
      log.line('error', `internal error in the deploy loop: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 'this is a bug in mfd; please report it');
    },
    body: async (trigger: Trigger, signal: AbortSignal): Promise<LastRun | undefined> => {
      // A copy per run: nothing a run sets on its Context (its reporter is the Run) reaches the next.
      // The loop waits for a manual deploy's lock instead of failing.
      const ctx: Context = { ...base, signal, reporter: log, wait: true, dryRun: false, force: false };
      let outcome: CycleOutcome;
      try {
        outcome = await runCycle(ctx, trigger);
      } finally {
        log.settled();
      }
      const previous = latest;
      latest = outcome;
      crashed = false;
      const key = stateKey(outcome);
      // A failed deploy is an event, always told (a good one tells itself: "deployed ..."); the
      // states a poll finds are told when they change.
      if (outcome.kind === 'deploy-failed' || (outcome.kind !== 'deployed' && key !== told)) {
        const [level, hint] = levelOf(outcome);
        log.line(level, `${describeSkip(outcome)}${outcome.kind === 'current' && previous?.kind === 'resolve-failed' ? ' (the remote answers again)' : ''}`, hint);
      }
      told = key;
      return lastRunOf(outcome, previous, base.now());
    },
  });
  return { loop, latest: () => latest, failed: () => crashed || backsOff(latest) };
}

function backsOff(o: CycleOutcome | undefined): boolean {
  return o?.kind === 'resolve-failed' || o?.kind === 'unreadable' || (o?.kind === 'deploy-failed' && !o.quarantined);
}

function stateKey(o: CycleOutcome): string {
  switch (o.kind) {
    case 'current':
    case 'quarantined':
    case 'superseded':
    case 'deployed':
    case 'deploy-failed':
      return `${o.kind} ${o.sha}`;
    case 'resolve-failed':
      return `${o.kind} ${o.error.code}`;
    // The problem names the file and what is wrong with it: another file, or another fault, is news.
    case 'unreadable':
      return `${o.kind} ${o.problem}`;
    default:
      return o.kind;
  }
}

function levelOf(o: CycleOutcome): [Level, string | undefined] {
  switch (o.kind) {
    case 'resolve-failed':
      return ['warn', `${o.error.hint ? `${o.error.hint}; ` : ''}polls back off until the remote answers`];
    case 'deploy-failed':
      return ['error', `"mfd logs" shows the run; ${o.error.hint ?? ''}`.replace(/; $/, '')];
    case 'unreadable':
      return ['error', undefined];
    default:
      return ['info', undefined];
  }
}

/** What a poker (the webhook server's /healthz) learns: deploys and failures; a quiet poll after a failed resolve is a recovery. */
function lastRunOf(o: CycleOutcome, previous: CycleOutcome | undefined, at: number): LastRun | undefined {
  switch (o.kind) {
    case 'deployed':
      return { outcome: 'success', sha: o.sha, at, error: null };
    case 'deploy-failed':
      return { outcome: 'failed', sha: o.sha, at, error: { code: o.error.code, message: o.error.message } };
    case 'resolve-failed':
      return { outcome: 'failed', sha: null, at, error: { code: o.error.code, message: o.error.message } };
    case 'current':
      return previous?.kind === 'resolve-failed' ? { outcome: 'success', sha: o.sha, at, error: null } : undefined;
    default:
      return undefined;
  }
}
