// The base of every error mfd reports and the exit code of each class (README: Exit codes).
// errors/index.ts re-exports it with all the subclasses; it exists so those can span several files.
import { redact } from './redact.ts';

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 2,
  lock: 3,
  git: 4,
  build: 5,
  activate: 6,
  health: 7,
  rollback: 8,
  disk: 9,
  /** mfd's own files: permission denied, a read-only mount, a file where a directory belongs. */
  fs: 10,
} as const;

export abstract class MfdError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    // Messages and hints quote URLs, and reach the terminal, the history and the logs.
    super(redact(message), { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint === undefined ? undefined : redact(options.hint);
  }
}
