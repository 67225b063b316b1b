// What mfd reads back from .mfd/ is input like any other: each record and JSON line is checked
// against a schema before anything acts on it. A bad one is skipped with a warning, never trusted.
import { readFile, stat } from '../sys/files.ts';
import * as z from 'zod/mini';
import { FsError, toFsError } from '../errors/index.ts';

/** Receives one warning per thing skipped; commands pass it to ctx.reporter.warn. */
export type OnWarning = (message: string, hint?: string) => void;

export const SHA = /^[0-9a-f]{40}$/;
/** A run id names a file in .mfd/logs: letters, digits, "-" and "_" only, never a path. */
export const RUN_ID = /^[0-9A-Za-z_-]{1,100}$/;

export const sha = z.string().check(z.regex(SHA, 'expected 40 hex digits'));
export const runId = z.string().check(z.regex(RUN_ID, 'expected a run id'));
export const timestamp = z.string().check(z.refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO date'));
export const positiveInt = z.int().check(z.gt(0));

/** The first problem of a failed parse, as `path: message`. */
export function describeIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.map(String).join('.');
  return `${path ? `${path}: ` : ''}${issue.message === 'Invalid input' ? issue.code.replace(/_/g, ' ') : issue.message}`;
}

/** Far more than any state file mfd writes holds (history and activations are trimmed long before). */
export const MAX_STATE_BYTES = 64 * 1024 ** 2;

/**
 * The text of a state file, or undefined when there is none. Any other failure is an FsError
 * naming the file: readFile's EISDIR (a directory in the file's place) carries no path of its own.
 * One larger than MAX_STATE_BYTES is not mfd's and is not read (exit 10): read, gigabytes would
 * be held in memory at every poll of the loop, and past 512 MiB fail as a RangeError, not as the file's.
 */
export async function readStateText(file: string): Promise<string | undefined> {
  try {
    const { size } = await stat(file);
    if (size > MAX_STATE_BYTES) throw stateTooLarge(file, size);
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Grown since the stat: readFile's own refusals of a file that size.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_FS_FILE_TOO_LARGE' || code === 'ERR_STRING_TOO_LONG') throw stateTooLarge(file, undefined);
    throw toFsError(error, { path: file, op: 'read' }) ?? error;
  }
}

/** The refusal of a state file too large to be mfd's (exit 10). */
export function stateTooLarge(file: string, size: number | undefined): FsError {
  return new FsError({ code: 'EFBIG', op: 'read', path: file }, {
    reason: `${size === undefined ? `it is larger than ${MAX_STATE_BYTES} bytes` : `it is ${size} bytes`}, more than any file mfd writes there holds`,
    hint: `mfd did not write it that size: see what it is (ls -l ${file}), then move it aside (mv ${file} ${file}.bak)`,
  });
}

/**
 * Oldest first; a missing file is empty. A line torn by a kill mid-append, `null`, or anything
 * the schema rejects is skipped with a warning naming the file and line.
 */
export async function readJsonLines<T>(file: string, schema: z.ZodMiniType<T>, onWarning?: OnWarning): Promise<T[]> {
  const text = await readStateText(file);
  if (text === undefined) return [];
  const items: T[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      onWarning?.(`${file}:${i + 1}: skipped a line that is not JSON (cut short by a crash?)`);
      continue;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) items.push(parsed.data);
    else onWarning?.(`${file}:${i + 1}: skipped an invalid line: ${describeIssue(parsed.error)}`);
  }
  return items;
}
