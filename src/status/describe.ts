// What each commit status says: the state a run's end maps to (failure: the commit's fault, error:
// mfd's or the infrastructure's) and its description, at most 140 characters, secrets redacted.
import { redact } from '../errors/redact.ts';
import type { RunOutcome } from '../sys/events.ts';
import type { FinalState } from './markers.ts';

export const MAX_DESCRIPTION = 140;

/** Errors that say the commit itself does not deploy: its build, its tree, its app coming up. */
const COMMIT_FAULTS = new Set([
  'BUILD_FAILED', 'TREE_INVALID', 'RESTART_FAILED', 'RESTART_ROLLED_BACK', 'HEALTH_CHECK_FAILED', 'HEALTH_FAILURE', 'SERVER_NEEDS_ATTENTION', 'ROLLBACK_FAILED',
]);

export const short = (sha: string): string => sha.slice(0, 7);
export const FULL_SHA = /^[0-9a-f]{40}$/;

/** One line, shas and deployment names shortened, credentials masked, cut to 140 characters. */
export function describe(text: string): string {
  const line = redact(text)
    .replace(/\bmfd_\d+_([0-9a-f]{40})\b/g, (_m, sha: string) => short(sha))
    .replace(/\b([0-9a-f]{7})[0-9a-f]{33}\b/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  const sentence = line.charAt(0).toUpperCase() + line.slice(1);
  return sentence.length <= MAX_DESCRIPTION ? sentence : `${sentence.slice(0, MAX_DESCRIPTION - 1)}\u2026`;
}

/** The final state of a run that did not succeed. */
export function failedState(outcome: RunOutcome, code: string | undefined): FinalState {
  if (outcome === 'rolled-back' || outcome === 'needs-attention') return 'failure';
  if (outcome === 'interrupted' || outcome === 'refused') return 'error';
  return code !== undefined && COMMIT_FAULTS.has(code) ? 'failure' : 'error';
}

/** "Deployed in 42s, healthy": what was checked, as the config says it is. */
export function deployedText(ms: number, checks: { health: boolean; unit: boolean }): string {
  const checked = checks.health ? 'healthy' : checks.unit ? 'restarted' : 'not checked (no [health] or [systemd] unit)';
  return describe(`Deployed in ${Math.max(0, Math.round(ms / 1000))}s, ${checked}`);
}
