// The new deployment came up unhealthy (exit 7), and why a check after a restart failed.
import { EXIT, MfdError } from './base.ts';

/** The new deployment came up unhealthy; mfd put the previous one back (or had none to go to). */
export class HealthCheckFailedError extends MfdError {
  readonly code = 'HEALTH_CHECK_FAILED';
  readonly exitCode = EXIT.health;
  constructor(readonly deployment: string, readonly detail: string, readonly restored: string | undefined, logsCommand: string) {
    super(
      `${deployment} is unhealthy: ${detail}; ${restored ? `rolled back to ${restored}, which is healthy` : 'there was no previous deployment to go back to, so it stays active'}`,
      { hint: `see why with: ${logsCommand}` },
    );
  }
}

/** Why a verification after a restart failed; carried as the cause of a rollback failure. */
export class HealthFailure extends MfdError {
  readonly code = 'HEALTH_FAILURE';
  readonly exitCode = EXIT.health;
  constructor(readonly detail: string, logsCommand: string) {
    super(detail, { hint: `see why with: ${logsCommand}` });
  }
}
