// No way back, or the way back failed (exit 8): nothing to roll back to, an unknown target, a
// rollback that did not come up, or a failed deploy whose restored deployment failed too.
import { EXIT, MfdError } from './base.ts';

export class RollbackUnavailableError extends MfdError {
  readonly code = 'ROLLBACK_UNAVAILABLE';
  readonly exitCode = EXIT.rollback;
  constructor(readonly reason: string) {
    super(`nothing to roll back to: ${reason}`, {
      hint: 'run "mfd ls" to see the deployments; deploy a known good ref with "mfd deploy <ref>"',
    });
  }
}

/** A rollback target (or, for `mfd logs`, a run) that does not exist; `hint` for what is not a rollback. */
export class DeploymentNotFoundError extends MfdError {
  readonly code = 'DEPLOYMENT_NOT_FOUND';
  readonly exitCode = EXIT.rollback;
  constructor(readonly target: string, readonly detail = 'no good deployment matches', hint = 'run "mfd ls" to see the deployments you can roll back to') {
    super(`${detail}: ${target}`, { hint });
  }
}

/** `mfd rollback` activated its target but the unit would not restart on it. */
export class RollbackFailedError extends MfdError {
  readonly code = 'ROLLBACK_FAILED';
  readonly exitCode = EXIT.rollback;
  constructor(readonly target: string, readonly failure: MfdError) {
    super(`rollback to ${target} is active but did not come up: ${failure.message}`, {
      hint: failure.hint,
      cause: failure,
    });
  }
}

/** A failed deployment, and the way back failed too: the server is down or unhealthy. */
export class ServerNeedsAttentionError extends MfdError {
  readonly code = 'SERVER_NEEDS_ATTENTION';
  readonly exitCode = EXIT.rollback;
  constructor(readonly failed: string, readonly firstDetail: string, readonly restored: string, readonly secondDetail: string, logsCommand: string) {
    super(
      `the server needs attention: ${failed} failed (${firstDetail}), and ${restored}, put back as active, failed too (${secondDetail})`,
      { hint: `see why with: ${logsCommand}; then "mfd ls" and "mfd rollback <sha>" or "mfd deploy <ref>"` },
    );
  }
}
