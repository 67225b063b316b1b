// The deploy loop of one app: pokes (polls, webhooks) ask for a run; at most one run goes at a
// time, and pokes during a run only set "run again", so any burst is the running run plus one more.
// What a run does is the body it is given (cd/cycle.ts); the loop only schedules and stops it.
import type { Interruption } from '../errors/index.ts';
import type { LastRun, Pokeable, Trigger } from './trigger.ts';

/** One run of the loop. `signal` aborts (with an Interruption) only when a stop outlasts its grace. */
export type RunBody = (trigger: Trigger, signal: AbortSignal) => Promise<LastRun | undefined>;

export interface LoopOptions {
  body: RunBody;
  /** A body that throws is a bug or a world fault it did not name: reported, and the loop goes on. */
  onCrash: (error: unknown) => void;
  /** Milliseconds since the epoch, for the LastRun of a crashed body. */
  now: () => number;
}

export class DeployLoop implements Pokeable {
  private readonly options: LoopOptions;
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;
  private again: Trigger | undefined;
  private last: LastRun | undefined;
  private stopping = false;

  constructor(options: LoopOptions) {
    this.options = options;
  }

  poke(trigger: Trigger): boolean {
    if (this.stopping) return false;
    if (this.running) {
      // The first trigger waiting is the one recorded: later ones add nothing the run will not see.
      this.again ??= trigger;
      return true;
    }
    this.running = this.drain(trigger);
    return true;
  }

  lastRun(): LastRun | undefined {
    return this.last;
  }

  /** Whether a run is under way (or queued behind one). */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Resolves once no run is under way and none is queued. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * No new runs from the call on (before its first await: pokes are refused at once, and a run
   * queued behind the one under way is dropped); a run under way may finish for `graceMs` (less if `hurry` aborts), then its signal
   * is aborted (the deploy stops cleanly after its current step, as on a first Ctrl-C) and it is
   * awaited. Never throws.
   */
  async stop(graceMs: number, options: { signal?: Interruption['signal']; hurry?: AbortSignal } = {}): Promise<void> {
    this.stopping = true;
    this.again = undefined;
    const running = this.running;
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    let onHurry: (() => void) | undefined;
    const cut = new Promise<'cut'>((resolve) => {
      timer = setTimeout(() => resolve('cut'), graceMs);
      onHurry = () => resolve('cut');
      if (options.hurry?.aborted) resolve('cut');
      else options.hurry?.addEventListener('abort', onHurry, { once: true });
    });
    const first = await Promise.race([running.then(() => 'done' as const), cut]);
    clearTimeout(timer);
    if (onHurry) options.hurry?.removeEventListener('abort', onHurry);
    if (first === 'cut') {
      // The build's children still get their own short TERM-then-KILL grace, unless hurried too.
      this.controller.abort({ signal: options.signal ?? 'SIGTERM', hurry: options.hurry ?? new AbortController().signal } satisfies Interruption);
    }
    await this.idle();
  }

  private async drain(first: Trigger): Promise<void> {
    let next: Trigger | undefined = first;
    try {
      while (next && !this.stopping) {
        this.again = undefined;
        // A signal per run, linked to the loop's only while it runs: anything a run might leave
        // listening on its signal goes with the run, instead of piling up on the loop's for months.
        const run = new AbortController();
        const forward = () => run.abort(this.controller.signal.reason);
        this.controller.signal.addEventListener('abort', forward, { once: true });
        try {
          const ended = await this.options.body(next, run.signal);
          if (ended) this.last = ended;
        } catch (error) {
          this.options.onCrash(error);
          const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
          this.last = { outcome: 'failed', sha: null, at: this.options.now(), error: { code: 'INTERNAL', message } };
        } finally {
          this.controller.signal.removeEventListener('abort', forward);
        }
        next = this.again;
      }
    } finally {
      this.running = undefined;
    }
  }
}
