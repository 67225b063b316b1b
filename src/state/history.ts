// The run history: one JSON line per deploy or rollback in .mfd/history.jsonl (who, what, how long
// each step took, how it ended), and the wrapper that writes it whatever the outcome.
import { appendFile, mkdir, readdir, rm } from 'node:fs/promises';
import { keepNewestLines } from './atomicfile.ts';
import type { Context } from '../context.ts';
import { bestEffort, describeFailure } from './best-effort.ts';
import { InterruptedError, MfdError, toFsError } from '../errors/index.ts';
import type { Layout } from './layout.ts';
import { readRecords, removeRecord } from './record.ts';
import { openRunLog, type RunLog } from './runlog.ts';
import { HistoryEntrySchema } from './history-schema.ts';
import { readJsonLines, type OnWarning } from './stored.ts';

/** `refused`: the deploy lock was held, so this run changed nothing (the holder's run is the real one). */
export type RunOutcome = 'success' | 'failed' | 'rolled-back' | 'needs-attention' | 'interrupted' | 'refused';

export interface HistoryEntry {
  runId: string;
  command: 'deploy' | 'rollback';
  user: string;
  ref: string | null;
  sha: string | null;
  deployment: string | null;
  start: string;
  end: string;
  steps: { step: string; ms: number; ok: boolean }[];
  outcome: RunOutcome;
  error: { code: string; message: string } | null;
  log: string;
}

/** Runs `fn` as one recorded run: a log file for its output, and a history line when it ends. */
export async function recordRun<T extends { sha: string; deployment: string }>(
  ctx: Context,
  command: HistoryEntry['command'],
  ref: string | undefined,
  fn: (log: RunLog) => Promise<T>,
): Promise<T> {
  const start = ctx.now();
  const log = openRunLog(ctx.layout, start, command, (error) => {
    const { message, hint } = describeFailure(error, { path: ctx.layout.log(log.runId), op: 'write', root: ctx.layout.root });
    // Later, not inside the write: the line that failed may be the first of a warning and its hint.
    queueMicrotask(() => ctx.reporter.warn(`cannot keep this run's log: ${message}`, `the run goes on without it${hint ? `; ${hint}` : ''}`));
  });
  ctx.reporter.setTee((line) => log.write(`${line}\n`));
  const base = { runId: log.runId, command, user: process.env.USER ?? process.env.LOGNAME ?? 'unknown', ref: ref ?? null, log: log.file };
  const first = ctx.reporter.timings.length;
  // The history is a report: failing to write it must neither fail a run that did its work nor
  // hide the error that ended one.
  const finish = (rest: Pick<HistoryEntry, 'sha' | 'deployment' | 'outcome' | 'error'>) =>
    bestEffort(ctx.reporter, 'cannot add this run to .mfd/history.jsonl', '"mfd history" and "mfd status" will not show it', () =>
      appendHistory(ctx.layout, {
        ...base, ...rest, start: new Date(start).toISOString(), end: new Date(ctx.now()).toISOString(),
        steps: ctx.reporter.timings.slice(first),
      }));
  try {
    const result = await fn(log);
    await finish({ sha: result.sha, deployment: result.deployment, outcome: 'success', error: null });
    return result;
  } catch (error) {
    const known = toFsError(error) ?? error;
    const code = known instanceof MfdError ? known.code : 'INTERNAL';
    const outcome: RunOutcome =
      error instanceof InterruptedError ? 'interrupted'
        : code === 'HEALTH_CHECK_FAILED' || code === 'RESTART_FAILED' || code === 'RESTART_ROLLED_BACK' ? 'rolled-back'
          : code === 'SERVER_NEEDS_ATTENTION' ? 'needs-attention'
            : code === 'LOCK_HELD' ? 'refused'
              : 'failed';
    // An interruption after activation still says what it left active.
    const active = error instanceof InterruptedError ? error.active : undefined;
    const message = known instanceof Error ? known.message.split('\n')[0]! : String(known);
    log.write(`error: ${message}\n`);
    await finish({ sha: active?.sha ?? null, deployment: active?.deployment ?? null, outcome, error: { code, message } });
    throw error;
  } finally {
    ctx.reporter.setTee(undefined);
  }
}

/** Runs kept in history.jsonl once it is trimmed; it is trimmed at twice that, so rarely rewritten. */
export const HISTORY_KEEP = 1000;

/**
 * Keeps history.jsonl and .mfd/logs from growing for ever: past 2 × HISTORY_KEEP lines the oldest
 * are dropped (an atomic rewrite), and so are the logs of runs older than the oldest line kept,
 * unless a deployment still on disk was built by that run, and the records of failed builds
 * (whose directories are long gone) from those runs. Call it holding the deploy lock.
 */
export async function trimHistory(layout: Layout): Promise<{ dropped: number; logsRemoved: number }> {
  const trimmed = await keepNewestLines(layout.history, HISTORY_KEEP);
  if (!trimmed) return { dropped: 0, logsRemoved: 0 };
  const { kept } = trimmed;
  // Run ids start with their UTC time (runlog.ts), so they sort in time order.
  const keptIds = kept.map(runIdOf).filter((id) => id !== undefined);
  const oldest = keptIds[0];
  let logsRemoved = 0;
  if (oldest) {
    // Two runs in one second may sort either way, so the kept ones are named, not just compared.
    const referenced = new Set<string | undefined>(keptIds);
    const onDisk = new Set(await readdir(layout.root));
    for (const [name, record] of await readRecords(layout)) {
      if (onDisk.has(name)) referenced.add(record.runId);
      // A failed build's record outlives its directory; once its run has left the history, it goes too.
      else if (record.runId !== undefined && record.runId < oldest && !referenced.has(record.runId)) await removeRecord(layout, name);
    }
    for (const file of await readdir(layout.logs).catch(() => [] as string[])) {
      const id = file.replace(/\.log$/, '');
      if (file.endsWith('.log') && id < oldest && !referenced.has(id)) {
        await rm(layout.log(id), { force: true });
        logsRemoved++;
      }
    }
  }
  return { dropped: trimmed.dropped, logsRemoved };
}

function runIdOf(line: string): string | undefined {
  try {
    return (JSON.parse(line) as Partial<HistoryEntry>).runId;
  } catch {
    return undefined; // a line torn by a kill
  }
}

export async function appendHistory(layout: Layout, entry: HistoryEntry): Promise<void> {
  await mkdir(layout.state, { recursive: true });
  await appendFile(layout.history, `${JSON.stringify(entry)}\n`);
}

/** Newest first. A line torn by a kill mid-append, or one that is not a run, is skipped with a warning. */
export async function readHistory(layout: Layout, onWarning?: OnWarning): Promise<HistoryEntry[]> {
  return (await readJsonLines(layout.history, HistoryEntrySchema, onWarning)).reverse();
}
