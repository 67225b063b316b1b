// The run history's file: one JSON line per deploy or rollback in .mfd/history.jsonl (who, what,
// how long each step took, how it ended): append, read back, trim. run/history-line.ts writes it.
import { mkdir, readdir, rm } from '../sys/files.ts';
import { appendLine, keepNewestLines } from './atomicfile.ts';
import type { Layout } from './layout.ts';
import { readRecords, removeRecord } from './record.ts';
import { isRunLogId } from './runlog.ts';
import { HistoryEntrySchema } from './history-schema.ts';
import { readJsonLines, type OnWarning } from './stored.ts';
import { readNewestJsonLines } from './tail.ts';
import type { BuildReuse, RunOutcome } from '../sys/events.ts';

export type { BuildReuse, RunOutcome };

export interface HistoryEntry {
  runId: string;
  command: 'deploy' | 'rollback';
  user: string;
  /** Why the run started: "manual", "poll" or "webhook <delivery id>"; absent in lines of older versions. */
  trigger?: string;
  ref: string | null;
  sha: string | null;
  deployment: string | null;
  start: string;
  end: string;
  steps: { step: string; ms: number; ok: boolean }[];
  outcome: RunOutcome;
  error: { code: string; message: string } | null;
  log: string;
  /** Build commands skipped by [[build.cache]], each with the deployment its outputs came from; absent when none were (and in older lines). */
  reused?: BuildReuse[];
}

/** Runs kept in history.jsonl once it is trimmed; it is trimmed at twice that, so rarely rewritten. */
export const HISTORY_KEEP = 1000;

/**
 * Keeps history.jsonl and .mfd/logs from growing for ever: past 2 × HISTORY_KEEP lines the oldest
 * are dropped (an atomic rewrite), and so are the logs of runs older than the oldest line kept,
 * unless a deployment still on disk was built by that run, and the records of failed builds
 * (whose directories are long gone) from those runs. Call it holding the deploy lock.
 * The lines are input: only a run id of mfd's own shape counts, the oldest of them is where the
 * kept runs begin (a line naming a later one cannot move that on), and nothing in .mfd/logs but a
 * file named as openRunLog names a log is ever removed.
 */
export async function trimHistory(layout: Layout): Promise<{ dropped: number; logsRemoved: number }> {
  const trimmed = await keepNewestLines(layout.history, HISTORY_KEEP, layout.pid);
  if (!trimmed) return { dropped: 0, logsRemoved: 0 };
  const { kept } = trimmed;
  // Run ids start with their UTC time (runlog.ts), so they sort in time order.
  const keptIds = kept.map(runIdOf).filter(isRunLogId);
  const oldest = keptIds.reduce<string | undefined>((min, id) => (min === undefined || id < min ? id : min), undefined);
  let logsRemoved = 0;
  if (oldest) {
    // Two runs in one second may sort either way, so the kept ones are named, not just compared.
    const referenced = new Set<string>(keptIds);
    const onDisk = new Set(await readdir(layout.root));
    const old = (id: string | undefined): id is string => isRunLogId(id) && id < oldest && !referenced.has(id);
    for (const [name, record] of await readRecords(layout)) {
      if (onDisk.has(name)) {
        if (record.runId !== undefined) referenced.add(record.runId);
      }
      // A failed build's record outlives its directory; once its run has left the history, it goes too.
      else if (old(record.runId)) await removeRecord(layout, name);
    }
    for (const entry of await readdir(layout.logs, { withFileTypes: true }).catch(() => [])) {
      const id = entry.name.slice(0, -'.log'.length);
      if (entry.isFile() && entry.name.endsWith('.log') && old(id)) {
        await rm(layout.log(id), { force: true });
        logsRemoved++;
      }
    }
  }
  return { dropped: trimmed.dropped, logsRemoved };
}

function runIdOf(line: string): unknown {
  try {
    return (JSON.parse(line) as Partial<HistoryEntry> | null)?.runId;
  } catch {
    return undefined; // a line torn by a kill
  }
}

export async function appendHistory(layout: Layout, entry: HistoryEntry): Promise<void> {
  await mkdir(layout.state, { recursive: true });
  await appendLine(layout.history, JSON.stringify(entry));
}

/** Newest first. A line torn by a kill mid-append, or one that is not a run, is skipped with a warning. */
export async function readHistory(layout: Layout, onWarning?: OnWarning): Promise<HistoryEntry[]> {
  return (await readJsonLines(layout.history, HistoryEntrySchema(), onWarning)).reverse();
}

/**
 * The newest `count` runs, newest first, read from the file's end (tail.ts): what `mfd serve`'s
 * status page shows, without parsing the runs it does not. Skipped lines are warned about as readHistory does.
 */
export async function readNewestHistory(layout: Layout, count: number, onWarning?: OnWarning): Promise<HistoryEntry[]> {
  return readNewestJsonLines(layout.history, HistoryEntrySchema(), (found) => found.length >= count, onWarning);
}
