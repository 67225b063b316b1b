// One deploy or rollback as an object: its id, command, app root, start and log, and the stream of
// events it emits. Orchestration reports through it (it is ctx.reporter inside a run); the terminal,
// the log file, the history line and the test hook subscribe. Each Run holds its own state only.
import { EventStream, timeStep, type RunEvent, type RunOutcome, type StepName, type StepOptions, type Subscriber } from '../sys/events.ts';
import type { Progress } from '../sys/output.ts';
import type { RunLog } from '../state/runlog.ts';

export type RunCommand = 'deploy' | 'rollback';

export interface RunInfo {
  id: string;
  command: RunCommand;
  /** The app root. */
  app: string;
  /** ms since the epoch. */
  start: number;
  log: RunLog;
}

export class Run implements Progress, RunInfo {
  readonly id: string;
  readonly command: RunCommand;
  readonly app: string;
  readonly start: number;
  readonly log: RunLog;
  private readonly events = new EventStream();

  constructor(info: RunInfo) {
    ({ id: this.id, command: this.command, app: this.app, start: this.start, log: this.log } = info);
  }

  subscribe(subscriber: Subscriber): () => void {
    return this.events.subscribe(subscriber);
  }

  handle(event: RunEvent): void | Promise<void> {
    return this.events.emit(event);
  }

  step<T>(name: StepName, detail: string, fn: () => Promise<T>, options?: StepOptions<T>): Promise<T> {
    return timeStep((event) => this.handle(event), name, detail, fn, options);
  }

  skip(name: StepName, reason?: string): void | Promise<void> {
    return this.handle({ type: 'step-skipped', step: name, ...(reason === undefined ? {} : { reason }) });
  }

  // Lines and output are never paused on (the test hook waits at steps only), so these stay synchronous.
  info(message: string): void {
    void this.handle({ type: 'info', message });
  }

  warn(message: string, hint?: string): void {
    void this.handle({ type: 'warning', message, ...(hint === undefined ? {} : { hint }) });
  }

  childOutput(chunk: string): void {
    void this.handle({ type: 'output', chunk });
  }

  result(human: string[], json: unknown): void {
    void this.handle({ type: 'result', human, json });
  }

  /** The last event: what the run ended with. The history and the log write theirs on it. */
  finish(end: { outcome: RunOutcome; sha: string | null; deployment: string | null; error: { code: string; message: string } | null; at: number }): void | Promise<void> {
    return this.handle({ type: 'run-finished', ...end });
  }
}
