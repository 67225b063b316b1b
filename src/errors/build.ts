// A build command failed (exit 5): its argv, how it ended, the last lines, and where the full log is.
import { EXIT, MfdError } from './base.ts';

export class BuildFailedError extends MfdError {
  readonly code = 'BUILD_FAILED';
  readonly exitCode = EXIT.build;
  constructor(
    readonly argv: string[],
    readonly exitStatus: number | string,
    readonly tail: string,
    readonly logFile: string,
    cause?: unknown,
  ) {
    const status = typeof exitStatus === 'number' ? `exit status ${exitStatus}` : exitStatus;
    super(
      `build command ${JSON.stringify(argv)} failed with ${status}${tail ? `; last lines:\n${tail}` : ''}`,
      { cause, hint: `the full output is in ${logFile}; active is untouched` },
    );
  }
}
