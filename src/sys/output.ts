// The Reporter: the only module that writes to stdout/stderr. Progress and logs go to stderr;
// results go to stdout (human lines, or one JSON document with --json), so pipes stay clean.
import { inspect } from 'node:util';
import { fdSink, type TextSink } from './fdwrite.ts';

export type OutputMode = 'tty' | 'plain' | 'json';

export interface ReporterOptions {
  /** Either a mode, or (when not JSON) how to tell tty from plain once it matters: asking the
   *  terminal costs start-up time that `mfd ls` and `mfd status` never need to pay. */
  mode: OutputMode | (() => Exclude<OutputMode, 'json'>);
  color: boolean | (() => boolean);
  verbose: boolean;
  stdout?: TextSink;
  stderr?: TextSink;
  /** Extra sink for every progress line (the run's log file). */
  tee?: (line: string) => void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Reporter {
  readonly verbose: boolean;
  private readonly json: boolean;
  private readonly modeOf: () => OutputMode;
  private readonly colorOf: () => boolean;
  private readonly out: TextSink;
  private readonly err: TextSink;
  private tee: ((line: string) => void) | undefined;
  private spinner: { timer: NodeJS.Timeout; text: string; frame: number } | undefined;
  /** Every step run so far, for the run's history entry. */
  readonly timings: { step: string; ms: number; ok: boolean }[] = [];

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

  setTee(tee: ((line: string) => void) | undefined): void {
    this.tee = tee;
  }

  /** Runs one named step: a spinner on a TTY, then one line with its outcome and duration. */
  async step<T>(name: string, detail: string, fn: () => Promise<T>, done?: (value: T) => string): Promise<T> {
    const started = performance.now();
    this.startSpinner(`${name} ${detail}`.trim());
    try {
      const value = await fn();
      this.stopSpinner();
      this.timings.push({ step: name, ms: Math.round(performance.now() - started), ok: true });
      const summary = done ? done(value) : detail;
      this.line(`${this.paint('32', '✓')} ${name.padEnd(9)} ${summary} ${this.paint('2', seconds(started))}`);
      return value;
    } catch (error) {
      this.stopSpinner();
      this.timings.push({ step: name, ms: Math.round(performance.now() - started), ok: false });
      this.line(`${this.paint('31', '✗')} ${name.padEnd(9)} ${detail} ${this.paint('2', seconds(started))}`);
      throw error;
    }
  }

  info(message: string): void {
    this.stopSpinner();
    this.line(message);
  }

  warn(message: string, hint?: string): void {
    this.stopSpinner();
    this.line(`${this.paint('33', 'warning:')} ${message}`);
    if (hint) this.line(`  hint: ${hint}`);
  }

  /** Live output of a child process (build commands), passed through untouched. */
  childOutput(chunk: string): void {
    this.stopSpinner();
    this.err.write(chunk);
  }

  /** The command's result: human lines on stdout, or one JSON document with --json. */
  result(human: string[], json: unknown): void {
    this.stopSpinner();
    if (this.json) this.out.write(`${JSON.stringify(json)}\n`);
    else for (const l of human) this.out.write(`${l}\n`);
  }

  failure(error: { code: string; message: string; hint?: string | undefined; detail?: string }): void {
    this.stopSpinner();
    if (this.json) {
      this.out.write(`${JSON.stringify({ ok: false, code: error.code, message: error.message, hint: error.hint ?? null })}\n`);
    }
    this.line(`${this.paint('31', 'error:')} ${error.message}`);
    if (error.hint) this.line(`  hint: ${error.hint}`);
    if (error.detail) this.line(error.detail);
  }

  internalFailure(error: unknown): void {
    this.stopSpinner();
    const text = error instanceof Error ? (error.stack ?? error.message) : inspect(error);
    if (this.json) this.out.write(`${JSON.stringify({ ok: false, code: 'INTERNAL', message: String(error) })}\n`);
    this.line(`internal error: ${text}`);
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

function seconds(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(2)}s`;
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}
