// Errors of mfd.toml (exit 2): missing, unreadable (not a regular file, too large), or invalid with every problem listed at once by key path and line.
import { EXIT, MfdError } from './base.ts';

export interface ConfigIssue {
  /** Key path such as `build.commands.1`, or '' for the file as a whole. */
  path: string;
  message: string;
  line?: number;
}

export class ConfigInvalidError extends MfdError {
  readonly code = 'CONFIG_INVALID';
  readonly exitCode = EXIT.config;
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    const lines = issues.map((i) => {
      const where = [i.line === undefined ? '' : `line ${i.line}`, i.path].filter(Boolean).join(': ');
      return `${file}: ${where ? `${where}: ` : ''}${i.message}`;
    });
    super(
      issues.length === 1 ? lines[0]! : `${file}: ${issues.length} problems\n${lines.map((l) => `  ${l}`).join('\n')}`,
      { hint: 'fix the keys above; mfd.toml.example lists every key mfd accepts' },
    );
  }
}

export class ConfigNotFoundError extends MfdError {
  readonly code = 'CONFIG_NOT_FOUND';
  readonly exitCode = EXIT.config;
  constructor(readonly file: string, cause?: unknown) {
    super(`config file not found: ${file}`, {
      cause,
      hint: 'run mfd in the app root (the directory holding mfd.toml), or pass -C DIR or --config FILE',
    });
  }
}

/** Why the config file could not be read as text: it is not a regular file, is too large, or open/read failed. */
export type ConfigUnreadable =
  | { problem: 'not-regular'; kind: string }
  | { problem: 'too-large'; maxBytes: number }
  | { problem: 'unreadable'; errno: string };

export class ConfigUnreadableError extends MfdError {
  readonly code = 'CONFIG_UNREADABLE';
  readonly exitCode = EXIT.config;
  constructor(readonly file: string, readonly reason: ConfigUnreadable, cause?: unknown) {
    const message =
      reason.problem === 'not-regular' ? `${file} is ${reason.kind}, not a regular file: mfd reads its config from a regular file`
      : reason.problem === 'too-large' ? `${file} is larger than ${reason.maxBytes / 1024 / 1024} MiB, which no mfd.toml is: is it the right file?`
      : `cannot read the config file ${file}: ${reason.errno}`;
    super(message, {
      cause,
      hint: reason.problem === 'unreadable' && reason.errno === 'EACCES'
        ? 'run mfd as a user that may read the file, or fix its permissions'
        : 'pass --config the path of your mfd.toml (or -C the app root that holds it)',
    });
  }
}
