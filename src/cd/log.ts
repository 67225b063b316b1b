// The long-running commands' log (watch, serve): one plain line per event, led by its level
// (`info: `, `warn: `, `error: `), so journald and grep need no parser. A deploy's progress reaches
// it as a Progress; a build's own output stays in the run's log file (`mfd logs`), not here.
import { timeStep, type RunEvent, type StepName, type StepOptions } from '../sys/events.ts';
import type { Progress } from '../sys/output.ts';

export type Level = 'info' | 'warn' | 'error';

export class LevelLog implements Progress {
  private readonly sink: (line: string) => void;

  /** `sink` takes one whole line, without its newline. */
  constructor(sink: (line: string) => void) {
    this.sink = sink;
  }

  line(level: Level, message: string, hint?: string): void {
    // One line per event: a hint rides on its message's line instead of a line of its own.
    this.sink(`${level}: ${message}${hint ? ` (hint: ${hint})` : ''}`.replace(/\r?\n/g, ' '));
  }

  step<T>(name: StepName, detail: string, fn: () => Promise<T>, options?: StepOptions<T>): Promise<T> {
    return timeStep((event) => this.handle(event), name, detail, fn, options);
  }

  skip(name: StepName, reason?: string): void {
    this.handle({ type: 'step-skipped', step: name, ...(reason === undefined ? {} : { reason }) });
  }

  info(message: string): void {
    this.line('info', message);
  }

  warn(message: string, hint?: string): void {
    this.line('warn', message, hint);
  }

  childOutput(): void {
    // Kept in the run's log file; the watch's own log stays one line per event.
  }

  result(): void {
    // A run inside the loop has no command result to print: its outcome is the loop's line.
  }

  /** One cycle of the loop is over: its run, if any, has written everything it writes. */
  settled(): void {
    // Nothing to say here; the status page's log (serve/events.ts) tells its listeners.
  }

  handle(event: RunEvent): void {
    switch (event.type) {
      case 'step-finished':
        this.line(event.outcome === 'ok' ? 'info' : 'warn', `${event.step} ${event.summary} ${event.outcome === 'ok' ? 'ok' : 'failed'} ${(event.ms / 1000).toFixed(2)}s`);
        return;
      case 'step-skipped':
        if (event.reason) this.line('info', event.reason);
        return;
      case 'info':
        this.line('info', event.message);
        return;
      case 'warning':
        this.line('warn', event.message, event.hint);
        return;
      default:
        return;
    }
  }
}
