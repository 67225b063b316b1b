// The deploy under way, live: a LevelLog that also hands each event of the loop's runs (the Run's
// stream reaches the loop's reporter) to LiveRuns, which keeps the run's steps so far and tells the
// page's listeners. Read-only towards the run: a listener that fails never reaches the deploy.
import { LevelLog } from '../cd/log.ts';
import type { RunEvent, StepName } from '../sys/events.ts';

export interface LiveStep {
  step: StepName;
  detail: string;
  /** ms since the epoch. */
  startedAt: number;
  state: 'running' | 'ok' | 'failed';
  ms?: number;
}

export interface LiveRun {
  /** The run's id (its log file), from its run-started event; null for a run seen only part way. */
  runId: string | null;
  /** ms since the epoch: its start, or when its first event came. */
  startedAt: number;
  steps: LiveStep[];
  /** The last lines it printed (progress and build output), newest last. */
  tail: string[];
  /** Its end came, and what it writes (history line, statuses) is being written: `finished` follows. */
  finishing: boolean;
}

export type LiveListener = (event: { type: 'run'; run: LiveRun } | { type: 'finished'; outcome: string; sha: string | null }) => void;

const TAIL_LINES = 8;
const LINE_CHARS = 300;

export class LiveRuns {
  private current: LiveRun | undefined;
  /** How the current run ended, told once the loop's cycle is over (settle). */
  private ended: { outcome: string; sha: string | null } | undefined;
  private partial = '';
  private readonly listeners = new Set<LiveListener>();

  constructor(private readonly options: { now: () => number }) {}

  get run(): LiveRun | undefined {
    return this.current;
  }

  listen(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  take(event: RunEvent): void {
    const now = this.options.now();
    if (event.type === 'run-started' || !this.current) {
      if (event.type === 'run-finished') return;
      // A run the loop never settled (none does: one cycle, one run) still ends for the page.
      this.settle();
      const started = event.type === 'run-started' ? { runId: event.runId, startedAt: event.at } : { runId: null, startedAt: now };
      this.current = { ...started, steps: [], tail: [], finishing: false };
      this.partial = '';
    }
    const run = this.current;
    switch (event.type) {
      case 'run-started':
        break;
      case 'step-started':
        run.steps.push({ step: event.step, detail: event.detail, startedAt: now, state: 'running' });
        break;
      case 'step-finished': {
        const step = [...run.steps].reverse().find((s) => s.step === event.step && s.state === 'running');
        if (step) Object.assign(step, { detail: event.summary, state: event.outcome, ms: event.ms });
        break;
      }
      case 'info':
        this.line(event.message);
        break;
      case 'warning':
        this.line(`warning: ${event.message}`);
        break;
      case 'output':
        this.output(event.chunk);
        break;
      case 'run-finished':
        // Not `finished` yet: the run's history line is written after this event, and a page told
        // now would reload before it, showing the runs without this one, and never reload again.
        run.finishing = true;
        this.ended = { outcome: event.outcome, sha: event.sha };
        break;
      default:
        return;
    }
    this.tell({ type: 'run', run });
  }

  /**
   * The loop's cycle is over, so everything its run writes is written: the run leaves the page and
   * its listeners hear `finished` (a run that never said how it ended, as failed).
   */
  settle(): void {
    if (!this.current) return;
    const ended = this.ended ?? { outcome: 'failed', sha: null };
    this.current = undefined;
    this.ended = undefined;
    this.tell({ type: 'finished', ...ended });
  }

  private output(chunk: string): void {
    const lines = (this.partial + chunk).split(/\r?\n/);
    this.partial = lines.pop()!.slice(-LINE_CHARS);
    for (const l of lines) this.line(l);
  }

  private line(text: string): void {
    const tail = this.current!.tail;
    // Terminal colours and cursor moves a build printed are noise on a page.
    tail.push(text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').slice(0, LINE_CHARS));
    if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
  }

  private tell(event: Parameters<LiveListener>[0]): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A page's listener (a closed connection) must never fail the deploy whose events it hears.
      }
    }
  }

}

/** The loop's log, teeing each run event to `live` as well as writing its lines. */
export class LiveLog extends LevelLog {
  constructor(sink: (line: string) => void, private readonly live: LiveRuns) {
    super(sink);
  }

  override handle(event: RunEvent): void {
    super.handle(event);
    this.live.take(event);
  }

  override settled(): void {
    this.live.settle();
  }
}
