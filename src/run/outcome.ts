// How a run ended, for its history line, from the class of the error that ended it: a class, not
// its code string, so two classes sharing a code (or a code renamed) cannot change an outcome.
import { DeploySupersededError, HealthCheckFailedError, InterruptedError, LockHeldError, RestartRolledBackError, ServerNeedsAttentionError } from '../errors/index.ts';
import type { RunOutcome } from '../sys/events.ts';

export function outcomeOf(error: unknown): Exclude<RunOutcome, 'success'> {
  if (error instanceof InterruptedError) return 'interrupted';
  // Both put the previous deployment back when there was one (restart.ts restartActive).
  if (error instanceof HealthCheckFailedError || error instanceof RestartRolledBackError) return 'rolled-back';
  if (error instanceof ServerNeedsAttentionError) return 'needs-attention';
  // Neither changed anything: another run held the app, or got there first.
  if (error instanceof LockHeldError || error instanceof DeploySupersededError) return 'refused';
  return 'failed';
}
