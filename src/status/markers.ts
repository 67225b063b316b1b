// What a run still owes the forge, one file per commit in .mfd/status/<sha>.json: written before a
// `pending` is posted (so a killed run's pending is closed by the next locked run, with `error`),
// and kept, with the final state, when that post finally failed (the next run sends it again).
import { link, lstat, mkdir, readdir, rename, rm } from '../sys/files.ts';
import { lazily } from '../sys/lazy.ts';
import { dirname, join } from 'node:path';
import * as z from 'zod/mini';
import type { Layout } from '../state/layout.ts';
import { readHistory } from '../state/history.ts';
import { fsyncDir, tempPathOf, tempWriterOf, writeFileAtomic } from '../state/atomicfile.ts';
import { isAlive } from '../sys/process.ts';
import { describeIssue, positiveInt, readStateText, runId, sha, timestamp, type OnWarning } from '../state/stored.ts';
import type { CommitState } from './request.ts';

const MarkerSchema = lazily(() => z.strictObject({
  sha,
  runId,
  at: timestamp,
  /** The writing process and its start time (clock ticks): a pending whose writer still runs is its run's to close. */
  pid: z.optional(positiveInt),
  start: z.optional(z.string().check(z.regex(/^\d{1,20}$/))),
  /** The final post this run could not make; absent while its pending is open. */
  final: z.optional(z.strictObject({
    state: z.enum(['success', 'failure', 'error']),
    description: z.string().check(z.maxLength(140)),
    targetUrl: z.optional(z.string()),
  })),
  /** Why the last post for it failed. */
  error: z.optional(z.string().check(z.maxLength(500))),
  /** When its final state was first owed (`at` is the last try): given up after OWED_MAX_MS. */
  since: z.optional(timestamp),
}));

/** How long a final state the forge keeps refusing is sent again: a week of runs, then given up. */
export const OWED_MAX_MS = 7 * 24 * 3_600_000;
export type Marker = z.infer<ReturnType<typeof MarkerSchema>>;
export type FinalState = Exclude<CommitState, 'pending'>;

export const markerDir = (layout: Layout): string => join(layout.state, 'status');
const markerFile = (layout: Layout, commit: string): string => join(markerDir(layout), `${commit}.json`);

export async function writeMarker(layout: Layout, marker: Marker): Promise<void> {
  await mkdir(markerDir(layout), { recursive: true });
  await writeFileAtomic(markerFile(layout, marker.sha), `${JSON.stringify(marker)}\n`, { mode: 0o600, writer: layout.pid });
}

/**
 * Keeps the final state a run could not post, only while the commit's marker is still `marker.runId`'s
 * or there is none: a later run's marker (its pending, or a state it owes) is that run's, and the
 * state it posts supersedes this one. Returns false when that marker was left in place.
 *
 * Moved aside first, as removeMarker does: neither the check nor the write can lose a marker
 * another run writes meanwhile.
 */
export async function writeOwedMarker(layout: Layout, marker: Marker): Promise<boolean> {
  await mkdir(markerDir(layout), { recursive: true });
  const file = markerFile(layout, marker.sha);
  const aside = await setAside(file, layout.pid);
  if (aside !== undefined && (await ownerOf(aside)) !== marker.runId) {
    await moveUnlessTaken(aside, file);
    return false;
  }
  const fresh = tempPathOf(file, layout.pid);
  try {
    await writeFileAtomic(fresh, `${JSON.stringify(marker)}\n`, { mode: 0o600, writer: layout.pid });
  } catch (error) {
    // A full disk: the marker stays as it was (this run's pending, or the state it owed before).
    if (aside !== undefined) await moveUnlessTaken(aside, file);
    throw error;
  }
  const kept = await moveUnlessTaken(fresh, file);
  if (aside !== undefined) await rm(aside, { force: true });
  return kept;
}

/**
 * Moves the commit's marker to a temp name of `writer`'s (recover puts it back if that process dies);
 * undefined when there is none. For that instant a reader (mfd status, a run closing stale ones)
 * does not see it, and sees it again on its next look. Two runs setting one marker aside at once
 * (a third run on the commit in the same instant) can still lose it: one of them finds none.
 */
async function setAside(file: string, writer: number): Promise<string | undefined> {
  const aside = tempPathOf(file, writer);
  try {
    await rename(file, aside);
    return aside;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The run a marker names; undefined for a file that is not one mfd wrote (its writes are atomic), which is no run's. */
async function ownerOf(file: string): Promise<unknown> {
  try {
    return (JSON.parse((await readStateText(file)) ?? 'null') as { runId?: unknown } | null)?.runId;
  } catch {
    return undefined; // unreadable or not JSON: not provably any run's, so put back as it was
  }
}

/**
 * Moves `from` to `file` unless a marker took that name meanwhile, which is newer and wins: a
 * hard link, which never replaces. Returns whether `from` is now the marker.
 */
async function moveUnlessTaken(from: string, file: string): Promise<boolean> {
  try {
    await link(from, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      // A file system without hard links: moved as before, over whatever came meanwhile.
      await rename(from, file);
      return true;
    }
    await rm(from, { force: true });
    return false;
  }
  await rm(from, { force: true });
  await fsyncDir(dirname(file));
  return true;
}

/**
 * Removes a commit's marker only while it is still `runId`'s: a later run may have written its own
 * pending for the same commit since, which is that run's to close, or the next run's if it is
 * killed. No lock is held here (final posts come after the deploy lock is let go), so the marker is
 * moved aside before it is read: one written meanwhile lands at the real name and stays.
 */
export async function removeMarker(layout: Layout, commit: string, runId: string): Promise<void> {
  const file = markerFile(layout, commit);
  const aside = await setAside(file, layout.pid);
  if (aside === undefined) return;
  if ((await ownerOf(aside)) === runId) await rm(aside, { force: true });
  else await moveUnlessTaken(aside, file);
}

/** A commit marker's temp name: set aside (setAside), a state owed (writeOwedMarker), or a writeMarker cut short. */
const ASIDE_NAME = /^\.([0-9a-f]{40})\.json\.tmp-[1-9][0-9]*-[0-9a-f]{12}$/;

/**
 * Puts back, at its commit's name, a marker a killed run left under a temp name of its own (it had
 * set it aside, or written the state it owed, and was killed before the link): the newest valid
 * one of each commit, and only where no marker took the name since (that one is newer and wins).
 * Else no run would close that commit's pending. A pending whose run has its history line is not
 * put back: that run reached its end and sent its final state (it was set aside to be removed),
 * and closing it would post `error` over that state. What is left there (not a marker, an older
 * one) is the caller's to remove as any dead writer's temp file. Call holding the deploy lock.
 */
export async function restoreSetAside(layout: Layout, self: number): Promise<string[]> {
  const dir = markerDir(layout);
  // Missing (no marker was ever written) or not a directory: nothing of ours to put back.
  if (!(await lstat(dir).catch(() => undefined))?.isDirectory()) return [];
  const newest = new Map<string, { path: string; at: number }>();
  let ended: Promise<Set<string>> | undefined;
  for (const name of await readdir(dir)) {
    const commit = ASIDE_NAME.exec(name)?.[1];
    const pid = tempWriterOf(name);
    if (commit === undefined || pid === undefined || pid === self || isAlive(pid)) continue;
    const path = join(dir, name);
    const marker = await readAside(path);
    if (marker?.sha !== commit) continue;
    if (!marker.final && (await (ended ??= endedRuns(layout))).has(marker.runId)) continue;
    const at = Date.parse(marker.at);
    if ((newest.get(commit)?.at ?? -Infinity) < at) newest.set(commit, { path, at });
  }
  const restored: string[] = [];
  for (const [commit, { path }] of newest) {
    const file = markerFile(layout, commit);
    if (await moveUnlessTaken(path, file)) restored.push(file);
  }
  return restored;
}

/** The runs the history says ended; none when it cannot be read (then a pending is put back: closed, not lost). */
async function endedRuns(layout: Layout): Promise<Set<string>> {
  return new Set((await readHistory(layout).catch(() => [])).map((entry) => entry.runId));
}

/** The marker a regular file holds; undefined for anything else (a link, torn, too large, not a marker). */
async function readAside(path: string): Promise<Marker | undefined> {
  if (!(await lstat(path).catch(() => undefined))?.isFile()) return undefined;
  try {
    return MarkerSchema().safeParse(JSON.parse((await readStateText(path)) ?? 'null')).data;
  } catch {
    return undefined; // unreadable or not JSON: not a marker to put back; removed as a dead writer's temp file
  }
}

/** Every valid marker; one that is not (damaged, not mfd's, named for another sha) is skipped with a warning. */
export async function readMarkers(layout: Layout, onWarning?: OnWarning): Promise<Marker[]> {
  let names: string[];
  try {
    names = await readdir(markerDir(layout));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const markers: Marker[] = [];
  for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()) {
    const file = join(markerDir(layout), name);
    let data: unknown;
    try {
      // Bounded as every state file is: a planted file of gigabytes is refused, not read.
      const text = await readStateText(file);
      if (text === undefined) continue;
      data = JSON.parse(text);
    } catch (error) {
      onWarning?.(`ignored .mfd/status/${name}: ${(error as Error).message.split('\n')[0]}`);
      continue;
    }
    const parsed = MarkerSchema().safeParse(data);
    if (!parsed.success) onWarning?.(`ignored .mfd/status/${name}: ${describeIssue(parsed.error)}`);
    else if (`${parsed.data.sha}.json` !== name) onWarning?.(`ignored .mfd/status/${name}: it names ${parsed.data.sha}`);
    else markers.push(parsed.data);
  }
  return markers;
}
