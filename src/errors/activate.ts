// The new deployment could not be made active or brought up (exit 6): the swap of `active` failed,
// or the unit would not restart, and whether mfd put the previous deployment back.
import { EXIT, MfdError } from './base.ts';

export class ActivateFailedError extends MfdError {
  readonly code = 'ACTIVATE_FAILED';
  readonly exitCode = EXIT.activate;
  constructor(readonly target: string, readonly reason: string, cause?: unknown) {
    super(`cannot point active at ${target}: ${reason}`, {
      cause,
      hint: 'check permissions and free space in the app root; active is unchanged',
    });
  }
}

export class RestartFailedError extends MfdError {
  readonly code = 'RESTART_FAILED';
  readonly exitCode = EXIT.activate;
  constructor(
    readonly unit: string,
    readonly argv: string[],
    readonly reason: string,
    readonly logsCommand: string,
    cause?: unknown,
  ) {
    super(`restart of unit ${unit} failed: ${argv.join(' ')}: ${reason}`, {
      cause,
      hint: `see why with: ${logsCommand}`,
    });
  }
}

/** The new deployment was activated but its unit would not restart; mfd put the previous one back. */
export class RestartRolledBackError extends MfdError {
  readonly code = 'RESTART_ROLLED_BACK';
  readonly exitCode = EXIT.activate;
  constructor(
    readonly failure: RestartFailedError,
    readonly restored: { name: string; sha: string } | undefined,
    readonly restoredRestartOk: boolean,
  ) {
    const after = !restored
      ? 'there was no previous deployment to go back to, so it stays active'
      : restoredRestartOk
        ? `rolled back to ${restored.sha} (${restored.name}), which restarted`
        : `put active back to ${restored.sha} (${restored.name}) but its restart failed too: the unit is down`;
    super(`${failure.message}; ${after}`, { hint: failure.hint, cause: failure });
  }
}

/**
 * The unit is socket-activated but its socket is not listening (stopped, or failed): a restart
 * would bring the app up behind a closed port, so mfd does not restart it.
 */
export class SocketInactiveError extends MfdError {
  readonly code = 'SOCKET_INACTIVE';
  readonly exitCode = EXIT.activate;
  constructor(
    readonly unit: string,
    readonly socket: { unit: string; activeState: string; result: string; listen: readonly string[] },
    /** Where `active` stands now, in words: what mfd did about the activation it had made. */
    readonly activeNote: string,
    /** The commands that bring the socket back, e.g. `systemctl --user start app.socket`. */
    startCommand: string,
  ) {
    const state = socket.activeState === 'failed' ? `failed (result ${socket.result})` : socket.activeState;
    const where = socket.listen.length ? socket.listen.join(', ') : 'its address';
    super(`unit ${unit} is socket-activated but ${socket.unit} is ${state}: nothing holds ${where}, so mfd did not restart ${unit}; ${activeNote}`, {
      hint: `bring the socket back with: ${startCommand}; then run mfd again`,
    });
  }
}

/**
 * A systemctl call had no answer within its bound (service.ts): the service manager hangs (a
 * stuck D-Bus, a manager reloading under load). Before activation `active` is untouched; after
 * it, the restart counts as failed and mfd goes back (RestartFailedError).
 */
export class SystemctlTimeoutError extends MfdError {
  readonly code = 'SYSTEMCTL_TIMEOUT';
  readonly exitCode = EXIT.activate;
  /** `no answer within 10 s (…)`: the part without the argv, for a RestartFailedError's reason. */
  readonly reason: string;
  constructor(readonly argv: string[], readonly timeoutMs: number, statusCommand: string) {
    const reason = `no answer within ${timeoutMs / 1000} s (mfd killed it): the service manager hangs`;
    super(`${argv.join(' ')}: ${reason}`, {
      hint: `check the service manager (${statusCommand}), then run mfd again`,
    });
    this.reason = reason;
  }
}
