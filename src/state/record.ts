// Deployment records (.mfd/deployments/<name>.json) and the activation history
// (.mfd/activations.jsonl). Records are written atomically; a dir without a record is Go mfd's: good.
// Both are validated when read back: an invalid record is never acted on.
import { mkdir, readdir, rm } from '../sys/files.ts';
import { appendLine, keepNewestLines, writeFileAtomic } from './atomicfile.ts';
import { parseDeploymentName, sortNewestFirst, type DeploymentName } from './deployment.ts';
import type { Layout } from './layout.ts';
import { ActivationSchema, validateRecord } from './record-schema.ts';
import { readJsonLines, readStateText, type OnWarning } from './stored.ts';
import { readNewestJsonLines } from './tail.ts';

/** building → built → healthy (came up after a restart and passed its checks); or failed / rolled-back. */
export type RecordState = 'building' | 'built' | 'healthy' | 'failed' | 'rolled-back';

export interface DeploymentRecord {
  name: string;
  sha: string;
  ref: string;
  /** Hash of the build commands: a deployment is reused only when they match. */
  fingerprint: string;
  state: RecordState;
  createdAt: string;
  updatedAt: string;
  /** The deploy process, while building: lets recovery tell a live build from a killed one. */
  pid?: number;
  /** Its start time (/proc/<pid>/stat field 22), so a reused pid is not taken for it. */
  pidStart?: string;
  /** The run that built it: its log is .mfd/logs/<runId>.log, removed with the deployment. */
  runId?: string;
  /** Process group of the running build command, so recovery can stop a build its deploy left orphaned. */
  buildPgid?: number;
  /** Start time of that group's leader, read as it was spawned: recovery signals only this process. */
  buildPgidStart?: string;
  error?: string;
  /** The [[build.cache]] keys whose outputs this deployment holds: a later build may copy them. */
  cacheKeys?: string[];
}

export interface Deployment extends DeploymentName {
  /** `invalid`: its record could not be trusted, so nothing reuses, activates, prunes or repairs it. */
  state: RecordState | 'adopted' | 'invalid';
  record?: DeploymentRecord;
}

export interface Activation {
  name: string;
  sha: string;
  at: string;
  command: 'deploy' | 'rollback' | 'auto-rollback';
}

export function isGood(d: Deployment): boolean {
  return d.state === 'built' || d.state === 'healthy' || d.state === 'adopted';
}

export async function writeRecord(layout: Layout, record: DeploymentRecord): Promise<void> {
  await mkdir(layout.records, { recursive: true });
  await writeFileAtomic(layout.record(record.name), `${JSON.stringify(record, null, 2)}\n`, { writer: layout.pid });
}

export async function removeRecord(layout: Layout, name: string): Promise<void> {
  await rm(layout.record(name), { force: true });
}

export interface Records {
  valid: Map<string, DeploymentRecord>;
  /** Names whose record file exists but failed validation (their directories must not be adopted). */
  invalid: Set<string>;
}

/** The records that pass validation; each one that does not is named in a warning and skipped. */
export async function readRecords(layout: Layout, onWarning?: OnWarning): Promise<Map<string, DeploymentRecord>> {
  return (await readAllRecords(layout, onWarning)).valid;
}

/**
 * Records read between two turns of the event loop. Each is a few synchronous reads and a schema
 * check (some 30 µs): the failed builds' records a long run of failures leaves (they go only once
 * their runs leave the history) held `mfd serve`'s loop some 30 ms per thousand, per read.
 */
export const RECORDS_PER_TURN = 64;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function readAllRecords(layout: Layout, onWarning?: OnWarning): Promise<Records> {
  const records: Records = { valid: new Map(), invalid: new Set() };
  let files: string[];
  try {
    files = await readdir(layout.records);
  } catch (error) {
    if (isNotFound(error)) return records;
    throw error;
  }
  let read = 0;
  for (const file of files) {
    if (!file.endsWith('.json') || file.startsWith('.')) continue;
    // None for the handful a one-shot command reads.
    if (++read % RECORDS_PER_TURN === 0) await turn();
    const name = file.slice(0, -'.json'.length);
    const path = `${layout.records}/${file}`;
    const text = await readStateText(path);
    // Removed by a concurrent prune between readdir and here: it no longer exists to be judged.
    if (text === undefined) continue;
    const checked = validateRecord(name, text);
    if (checked.ok) records.valid.set(name, checked.record);
    else {
      records.invalid.add(name);
      onWarning?.(`ignored ${path}: ${checked.why}`, `mfd will not touch ${name}; check the file, or remove it by hand`);
    }
  }
  return records;
}

/** Every deployment directory in the root, newest first (see orderNewestFirst), joined with its record (`records`: read already). */
export async function listDeployments(layout: Layout, options: { now: number; onWarning?: OnWarning; records?: Records }): Promise<Deployment[]> {
  const [entries, records] = await Promise.all([readdir(layout.root, { withFileTypes: true }), options.records ?? readAllRecords(layout, options.onWarning)]);
  const found: Deployment[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const parsed = parseDeploymentName(entry.name);
    if (!parsed) continue;
    const record = records.valid.get(entry.name);
    if (record) found.push({ ...parsed, state: record.state, record });
    // An untrusted record is not Go mfd's absence of one: the directory may be a failed build.
    else found.push({ ...parsed, state: records.invalid.has(entry.name) ? 'invalid' : 'adopted' });
  }
  return orderNewestFirst(found, options.now);
}

/** A time this far past `now` is another host's clock skew, not yet a wrong clock. */
const SKEW_MS = 5 * 60_000;

/**
 * Newest first by creation time: the record's, else the name's. A time in the future (a name made
 * by hand, or under a clock that was later set back) says nothing about age, so those come last,
 * as the oldest: otherwise they would count toward `keep` for ever and never be pruned.
 */
export function orderNewestFirst<T extends Deployment>(list: readonly T[], now: number): T[] {
  // Two deploys within one second share the name's timestamp: the record's milliseconds decide.
  const ms = (d: Deployment) => {
    const recorded = d.record ? Date.parse(d.record.createdAt) : Number.NaN;
    return Number.isFinite(recorded) ? recorded : d.createdAt * 1000;
  };
  const future = (d: Deployment) => ms(d) > now + SKEW_MS;
  return sortNewestFirst(list).sort(
    (a, b) => Number(future(a)) - Number(future(b)) || Math.floor(ms(b) / 1000) - Math.floor(ms(a) / 1000) || ms(b) - ms(a),
  );
}

export async function appendActivation(layout: Layout, activation: Activation): Promise<void> {
  await mkdir(layout.state, { recursive: true });
  await appendLine(layout.activations, JSON.stringify(activation));
}

/**
 * Activations kept once activations.jsonl is trimmed (at twice that). Rollback only needs the
 * latest activation of each deployment still on disk, a handful of lines from the end.
 */
export const ACTIVATIONS_KEEP = 1000;

export async function trimActivations(layout: Layout): Promise<number> {
  return (await keepNewestLines(layout.activations, ACTIVATIONS_KEEP, layout.pid))?.dropped ?? 0;
}

/** Oldest first. A line torn by a crash mid-append, or one that is not an activation, is skipped with a warning. */
export async function readActivations(layout: Layout, onWarning?: OnWarning): Promise<Activation[]> {
  return readJsonLines(layout.activations, ActivationSchema, onWarning);
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** The latest activation of deployment `name`, read from the file's end (tail.ts), or undefined. */
export async function readLastActivationOf(layout: Layout, name: string, onWarning?: OnWarning): Promise<Activation | undefined> {
  const found = await readNewestJsonLines(layout.activations, ActivationSchema, (seen) => seen.at(-1)?.name === name, onWarning);
  return found.at(-1)?.name === name ? found.at(-1) : undefined;
}
