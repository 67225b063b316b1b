// Commit statuses as a subscriber of a run's events: pending once a deploy knows its sha (after
// resolve) or a rollback its target, then the final state when the run ends; a rollback also marks
// the sha it left `failure`. At the run's first step (the lock held) it closes what killed runs left.
import type { StatusConfig } from '../config/status.ts';
import type { Layout } from '../state/layout.ts';
import { parseDeploymentName } from '../state/deployment.ts';
import { readActive } from '../steps/activate.ts';
import type { RunEvent, Subscriber } from '../sys/events.ts';
import { deployedText, describe, failedState, FULL_SHA, short } from './describe.ts';
import { StatusPoster } from './poster.ts';

export interface StatusRun {
  id: string;
  command: 'deploy' | 'rollback';
  /** ms since the epoch. */
  start: number;
  /** What was asked for: a full sha is known before anything is resolved. */
  ref: string | undefined;
  user: string;
  host: string;
}

export interface StatusSubscriberOptions {
  run: StatusRun;
  config: StatusConfig;
  layout: Layout;
  checks: { health: boolean; unit: boolean };
  /** The status page's base URL ([status] target_url_base, else [serve] public_url when that exists). */
  targetUrlBase?: string;
  now: () => number;
  report: (message: string, hint?: string) => void;
  fetch?: typeof fetch;
}


export function commitStatusSubscriber(opts: StatusSubscriberOptions): Subscriber {
  const { run } = opts;
  const poster = new StatusPoster({ config: opts.config, layout: opts.layout, runId: run.id, now: opts.now, report: opts.report, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  const targetUrl = opts.targetUrlBase ? `${opts.targetUrlBase}/runs/${encodeURIComponent(run.id)}` : undefined;
  const link = targetUrl ? { targetUrl } : {};
  let sha = run.ref && FULL_SHA.test(run.ref) ? run.ref : undefined;
  let pending = false;
  let started = false;
  let left: string | undefined;
  let activated = false;

  const openPending = (commit: string, text: string) => {
    if (pending) return;
    pending = true;
    poster.pending({ sha: commit, state: 'pending', description: describe(text), ...link });
  };

  return async (event: RunEvent) => {
    if (event.type === 'step-started' && !started) {
      // Steps start only once the lock is held and recover() has run: what is left is stale.
      started = true;
      await poster.closeStale((m) => opts.report(m));
    }
    if (run.command === 'deploy' && event.type === 'resolved') {
      sha = event.sha;
      openPending(sha, `Deploying ${short(sha)} to ${run.host}`);
    }
    if (run.command === 'rollback' && event.type === 'step-started' && event.step === 'activate') {
      sha = parseDeploymentName(event.detail)?.sha;
      // Unreadable `active`: the rollback itself reports that; there is then no sha it leaves to mark.
      left = parseDeploymentName((await readActive(opts.layout).catch(() => undefined)) ?? '')?.sha;
      if (sha) openPending(sha, `Rolling back to ${short(sha)} on ${run.host}`);
    }
    if (event.type === 'step-finished' && event.step === 'activate' && event.outcome === 'ok') activated = true;
    if (event.type !== 'run-finished') return;

    const ms = event.at - run.start;
    if (event.outcome === 'success') {
      const commit = event.sha ?? sha;
      if (commit) {
        const text = run.command === 'rollback' ? `Active again after a rollback by ${run.user}, in ${Math.round(ms / 1000)}s` : deployedText(ms, opts.checks);
        poster.final({ sha: commit, state: 'success', description: describe(text), ...link });
      }
    } else if (sha) {
      // Known only once resolved, or from the start for a full sha (a lock timeout then says so too).
      const message = event.error?.message ?? event.outcome;
      poster.final({ sha, state: failedState(event.outcome, event.error?.code), description: describe(message), ...link });
    }
    if (run.command === 'rollback' && activated && left && left !== sha) {
      poster.final({ sha: left, state: 'failure', description: describe(`Rolled back by ${run.user}`), ...link });
    }
    await poster.drain();
  };
}
