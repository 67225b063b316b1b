// The quarantine marks of .mfd/quarantine.json: commits whose deploy failed or that were rolled
// back, which the deploy loop never deploys again by itself. Written atomically, under the deploy
// lock (deploy and rollback mark and clear); read back as input, checked against its schema.
// Bounded: a mark only matters while its commit may be the branch head again, so the newest
// QUARANTINE_KEEP are kept and each new mark drops the oldest beyond them.
import { mkdir } from '../sys/files.ts';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { writeFileAtomic } from './atomicfile.ts';
import type { Layout } from './layout.ts';
import { describeIssue, readStateText, sha, timestamp } from './stored.ts';

export interface QuarantineMark {
  /** Why: the error's code and first line, or the rollback that left it. */
  reason: string;
  outcome: 'failed' | 'rolled-back';
  /** ISO time of the mark. */
  at: string;
  user: string;
}

export type Quarantine = { ok: true; marks: Map<string, QuarantineMark> } | { ok: false; problem: string };

const MarkSchema = z.object({
  reason: z.string(),
  outcome: z.enum(['failed', 'rolled-back']),
  at: timestamp,
  user: z.string(),
});
// Not strict: a newer mfd may add fields; the keys must be shas.
const FileSchema = z.object({ version: z.literal(1), marks: z.record(sha, MarkSchema) });

/**
 * Marks kept: each is a commit that failed after the ones dropped, so a dropped mark's commit is
 * the head again only if the branch is reset that far back. Read at every poll and page view.
 */
export const QUARANTINE_KEEP = 100;

/** Named here, beside its only reader and writer: the loop's records are no part of Go mfd's layout. */
export const quarantineFile = (layout: Layout): string => join(layout.state, 'quarantine.json');

/** A missing file holds no marks; one that is unreadable or invalid says so (the loop then deploys nothing by itself). */
export async function readQuarantine(layout: Layout): Promise<Quarantine> {
  const file = quarantineFile(layout);
  const text = await readStateText(file);
  if (text === undefined) return { ok: true, marks: new Map() };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: `${file}: not JSON` };
  }
  const parsed = FileSchema.safeParse(value);
  if (!parsed.success) return { ok: false, problem: `${file}: ${describeIssue(parsed.error)}` };
  return { ok: true, marks: new Map(Object.entries(parsed.data.marks)) };
}

/**
 * Marks `sha`, keeping it and the newest QUARANTINE_KEEP - 1 others by their time; an unreadable
 * file is replaced (its marks are lost, which `onLost` is told).
 */
export async function markQuarantined(layout: Layout, sha: string, mark: QuarantineMark, onLost?: (problem: string) => void): Promise<void> {
  const current = await readQuarantine(layout);
  if (!current.ok) onLost?.(current.problem);
  const marks = current.ok ? current.marks : new Map<string, QuarantineMark>();
  marks.delete(sha);
  await writeMarks(layout, new Map([...newestOf(marks, QUARANTINE_KEEP - 1), [sha, mark]]));
}

/** Oldest first. By the mark's own time, not the file's order: the one just written is kept even if the clock was set back. */
function newestOf(marks: Map<string, QuarantineMark>, keep: number): [string, QuarantineMark][] {
  return [...marks].sort(([, a], [, b]) => Date.parse(a.at) - Date.parse(b.at)).slice(-keep);
}

/** Clears `sha`'s mark; true when there was one. Writes nothing when there was none. */
export async function clearQuarantined(layout: Layout, sha: string): Promise<boolean> {
  const current = await readQuarantine(layout);
  if (!current.ok || !current.marks.has(sha)) return false;
  current.marks.delete(sha);
  await writeMarks(layout, current.marks);
  return true;
}

async function writeMarks(layout: Layout, marks: Map<string, QuarantineMark>): Promise<void> {
  await mkdir(layout.state, { recursive: true });
  await writeFileAtomic(quarantineFile(layout), `${JSON.stringify({ version: 1, marks: Object.fromEntries(marks) }, null, 2)}\n`, { writer: layout.pid });
}
