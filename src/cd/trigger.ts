// What pokes the deploy loop (cd/), and what the loop tells its pokers: the seam between the
// loop and the things that wake it (the poller, the webhook server), so either side can change alone.

/** Why a run started: recorded in the history line beside the user. */
export type Trigger =
  | { kind: 'poll' }
  | { kind: 'webhook'; delivery: string }
  | { kind: 'manual' };

/** The loop's last finished run, as /healthz and the status page report it. */
export interface LastRun {
  outcome: string;
  sha: string | null;
  at: number;
  error: { code: string; message: string } | null;
}

/** What a poker may do with the loop: wake it, and read how it is doing. Never throws. */
export interface Pokeable {
  /**
   * Ask for a run; a poke during a run sets "run again" (a burst collapses into at most one more run).
   * False when the loop is stopping: no run starts or is queued, and the poker must not say one will.
   */
  poke(trigger: Trigger): boolean;
  /** undefined until the first run that did something has finished. */
  lastRun(): LastRun | undefined;
}
