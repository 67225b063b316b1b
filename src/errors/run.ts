// A run stopped by SIGINT, SIGTERM or SIGHUP: the reason cli.ts aborts the run's signal with, and
// the error the orchestration throws once it has put things in order (exit 130 / 143 / 129, as shells do).
import { MfdError } from './base.ts';

/** SIGHUP: the terminal went away (an ssh connection dropped), which must not cut a deploy off either. */
export type InterruptSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** The abort reason of an interrupted run: which signal, and `hurry`, aborted by a second one. */
export interface Interruption {
  signal: InterruptSignal;
  /** A second signal: stop child processes at once instead of after their grace period. */
  hurry: AbortSignal;
}

export function interruptionOf(signal: AbortSignal | undefined): Interruption | undefined {
  const reason = signal?.aborted ? (signal.reason as Partial<Interruption> | undefined) : undefined;
  return reason && reason.signal !== undefined && Object.hasOwn(EXIT_BY_SIGNAL, reason.signal) && reason.hurry ? (reason as Interruption) : undefined;
}

/** 128 + the signal's number, what a shell reports for a process a signal ended. */
const EXIT_BY_SIGNAL: Record<InterruptSignal, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export class InterruptedError extends MfdError {
  readonly code = 'INTERRUPTED';
  readonly exitCode: number;
  constructor(
    readonly signal: InterruptSignal,
    /** Where the run stopped and what that left, e.g. "before activation; active is untouched". */
    readonly where: string,
    /** Set when the run had activated a deployment: what is active now. */
    readonly active?: { sha: string; deployment: string },
    hint = 'nothing is left half-done; run the command again when ready',
  ) {
    super(`interrupted by ${signal} ${where}`, { hint });
    this.exitCode = EXIT_BY_SIGNAL[signal];
  }
}

/** Throws the InterruptedError for `signal` if the run was interrupted; `where` says at what point. */
export function throwIfInterrupted(signal: AbortSignal, where: string): void {
  const interruption = interruptionOf(signal);
  if (interruption) throw new InterruptedError(interruption.signal, where);
}
