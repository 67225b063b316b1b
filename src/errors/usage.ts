// Bad command-line input (exit 2): the message says what was wrong, the hint how to ask for help.
import { EXIT, MfdError } from './base.ts';

export class UsageError extends MfdError {
  readonly code = 'USAGE';
  readonly exitCode = EXIT.usage;
  constructor(message: string, hint = 'run "mfd help" for usage') {
    super(message, { hint });
  }
}
