// Errors of mfd.toml (exit 2): missing, or invalid with every problem listed at once by key path and line.
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
