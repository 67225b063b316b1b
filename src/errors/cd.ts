// Errors of continuous deployment (the deploy loop of cd/).
import { EXIT, MfdError } from './base.ts';

/**
 * An automatic deploy found, once it held the lock, that it should not run after all: a manual
 * deploy or rollback got there first (the commit is active now, quarantined, or the loop paused).
 * Exit 3, the lock class: another run held the app first. Only the loop raises it.
 */
export class DeploySupersededError extends MfdError {
  readonly code = 'DEPLOY_SUPERSEDED';
  readonly exitCode = EXIT.lock;
  constructor(
    readonly sha: string,
    readonly reason: string,
  ) {
    super(`automatic deploy of ${sha} not started: ${reason}`, { hint: 'nothing was changed; the next poll decides again' });
  }
}
