// The Reporter: the only module that writes to stdout/stderr. Progress and logs go to stderr;
// results go to stdout (human lines, or one JSON document with --json), so pipes stay clean.
// It renders a run's events (handle) and, outside a run, the same calls made on it directly.
import { inspect } from 'node:util';
import { fdSink, type TextSink } from './fdwrite.ts';
import { timeStep, type RunEvent, type StepName, type StepOptions } from './events.ts';
import { inert } from '../errors/inert.ts';
import { eventLines } from './render.ts';

export type OutputMode = 'tty' | 'plain' | 'json';

/**
 * What commands and orchestration report through (ctx.reporter): the terminal Reporter, or inside
 * a run the Run, which turns each call into an event for its subscribers (run/run.ts).
 */
export interface Progress {
  /** Runs one named step: a spinner on a TTY, then one line with its outcome and duration. */
  step<T>(name: StepName, detail: string, fn: () => Promise<T>, options?: StepOptions<T>): Promise<T>;
  /** A step of the plan with nothing to do; `reason`, if given, is shown as a line. */
  skip(name: StepName, reason?: string): void | Promise<void>;
  info(message: string): void;
  warn(message: string, hint?: string): void;
  /** Live output of a child process (build commands), passed through untouched: the user's own program. */
  childOutput(chunk: string): void;
  /**
   * The command's result: human lines on stdout, or one JSON document with --json. Made inert
   * (inert.ts) unless `verbatim`: a run's log as `mfd logs` prints it, which holds the build's own
   * output as the terminal showed it live (mfd's lines in it were made inert when written).
   */
  result(human: string[], json: unknown, options?: { verbatim?: boolean }): void;
  /** Takes one event of a run: the terminal renders it, a Run passes it on to its own subscribers. */
  handle(event: RunEvent): void | Promise<void>;
}

export interface ReporterOptions {
  /** Either a mode, or (when not JSON) how to tell tty from plain once it matters: asking the
   *  terminal costs start-up time that `mfd ls` and `mfd status` never need to pay. */
  mode: OutputMode | (() => Exclude<OutputMode, 'json'>);
  color: boolean | (() => boolean);
  verbose: boolean;
  stdout?: TextSink;
  stderr?: TextSink;
  /** Extra sink for every progress line, without colour. */
  tee?: (line: string) => void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Reporter implements Progress {
  readonly verbose: boolean;
  private readonly json: boolean;
  private readonly modeOf: () => OutputMode;
  private readonly colorOf: () => boolean;
  private readonly out: TextSink;
  private readonly err: TextSink;
  private readonly tee: ((line: string) => void) | undefined;
  private spinner: { timer: NodeJS.Timeout; text: string; frame: number } | undefined;

  constructor(options: ReporterOptions) {
    const { mode, color } = options;
    this.json = mode === 'json';
    this.modeOf = typeof mode === 'function' ? once(mode) : () => mode;
    this.colorOf = typeof color === 'function' ? once(color) : () => color;
    this.verbose = options.verbose;
    this.out = options.stdout ?? fdSink(1);
    this.err = options.stderr ?? fdSink(2);
    this.tee = options.tee;
  }

  get mode(): OutputMode {
    return this.modeOf();
  }

  step<T>(name: StepName, detail: string, fn: () => Promise<T>, options?: StepOptions<T>): Promise<T> {
    return timeStep((event) => this.handle(event), name, detail, fn, options);
  }

  skip(name: StepName, reason?: string): void {
    this.handle({ type: 'step-skipped', step: name, ...(reason === undefined ? {} : { reason }) });
  }

  info(message: string): void {
    this.handle({ type: 'info', message });
  }

  warn(message: string, hint?: string): void {
    this.handle({ type: 'warning', message, ...(hint === undefined ? {} : { hint }) });
  }

  childOutput(chunk: string): void {
    this.handle({ type: 'output', chunk });
  }

  /** Renders one event. The end of a run prints nothing: the command prints its result, cli.ts a failure. */
  handle(event: RunEvent): void {
    switch (event.type) {
      case 'step-started':
        this.startSpinner(inert(`${event.step} ${event.detail}`.trim()));
        return;
      case 'output':
        this.stopSpinner();
        this.err.write(event.chunk);
        return;
      case 'result':
        this.result(event.human, event.json);
        return;
      case 'run-finished':
        return;
      default: {
        const lines = eventLines(event, (code, text) => this.paint(code, text));
        // A skipped step with nothing to say leaves a spinner alone (there is none between steps).
        if (lines.length > 0) this.stopSpinner();
        for (const l of lines) this.line(l);
      }
    }
  }

  /** The command's result: human lines on stdout, or one JSON document with --json. */
  result(human: string[], json: unknown, options?: { verbatim?: boolean }): void {
    this.stopSpinner();
    if (this.json) this.out.write(`${JSON.stringify(json)}\n`);
    else for (const l of human) this.out.write(`${options?.verbatim ? l : inert(l)}\n`);
  }

  failure(error: { code: string; message: string; hint?: string | undefined; detail?: string }): void {
    this.stopSpinner();
    if (this.json) {
      this.out.write(`${JSON.stringify({ ok: false, code: error.code, message: error.message, hint: error.hint ?? null })}\n`);
    }
    this.line(`${this.paint('31', 'error:')} ${inert(error.message)}`);
    if (error.hint) this.line(`  hint: ${inert(error.hint)}`);
    if (error.detail) this.line(inert(error.detail));
  }

  internalFailure(error: unknown): void {
    this.stopSpinner();
    const text = error instanceof Error ? (error.stack ?? error.message) : inspect(error);
    if (this.json) this.out.write(`${JSON.stringify({ ok: false, code: 'INTERNAL', message: String(error) })}\n`);
    this.line(`internal error: ${inert(text)}`);
    this.line('  hint: this is a bug in mfd; please report it with the output above');
  }

  private line(text: string): void {
    this.err.write(`${text}\n`);
    this.tee?.(stripAnsi(text));
  }

  private paint(code: string, text: string): string {
    return this.colorOf() ? `\u001b[${code}m${text}\u001b[0m` : text;
  }

  private startSpinner(text: string): void {
    this.stopSpinner();
    if (this.mode !== 'tty') return;
    const spinner = { text, frame: 0, timer: setInterval(() => this.drawSpinner(), 80) };
    spinner.timer.unref();
    this.spinner = spinner;
    this.drawSpinner();
  }

  private drawSpinner(): void {
    if (!this.spinner) return;
    const frame = FRAMES[this.spinner.frame++ % FRAMES.length]!;
    this.err.write(`\r\u001b[2K${this.paint('36', frame)} ${this.spinner.text}`);
  }

  private stopSpinner(): void {
    if (!this.spinner) return;
    clearInterval(this.spinner.timer);
    this.spinner = undefined;
    this.err.write('\r\u001b[2K');
  }
}

function once<T>(fn: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: fn() }).v;
}

export function chooseMode(opts: { json: boolean; ci: boolean; isTTY: boolean }): OutputMode {
  if (opts.json) return 'json';
  return opts.ci || !opts.isTTY ? 'plain' : 'tty';
}

/** NO_COLOR wins over everything (no-color.org); FORCE_COLOR forces colour even into a pipe. */
export function chooseColor(env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY;
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}
