// Writes a run can do without (a history line, an activation, a state label, a failure record):
// when one fails, the run goes on and a warning says what was not recorded, why, and what follows.
import { MfdError, toFsError } from '../errors/index.ts';
import type { Reporter } from '../sys/output.ts';

export async function bestEffort<T>(
  reporter: Pick<Reporter, 'warn'>,
  what: string,
  consequence: string,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    const { message, hint } = describeFailure(error);
    reporter.warn(`${what}: ${message}`, hint ? `${consequence}; ${hint}` : consequence);
    return undefined;
  }
}

/** One line and a hint for any failure: an FsError's own, else the first line of the message. */
export function describeFailure(error: unknown, context: { path?: string; op?: string; root?: string } = {}): { message: string; hint: string | undefined } {
  const known = toFsError(error, context) ?? error;
  if (known instanceof MfdError) return { message: known.message.split('\n')[0]!, hint: known.hint };
  return { message: known instanceof Error ? known.message.split('\n')[0]! : String(known), hint: undefined };
}
