// Deployment records (.mfd/deployments/<name>.json) and the activation history
// (.mfd/activations.jsonl). Records are written atomically; a dir without a record is Go mfd's: good.
import { appendFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { keepNewestLines, writeFileAtomic } from './atomicfile.ts';
import { parseDeploymentName, sortNewestFirst, type DeploymentName } from './deployment.ts';
import type { Layout } from './layout.ts';

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
  /** The run that built it: its log is .mfd/logs/<runId>.log, removed with the deployment. */
  runId?: string;
  /** Process group of the running build command, so recovery can stop a build its deploy left orphaned. */
  buildPgid?: number;
  error?: string;
}

export interface Deployment extends DeploymentName {
  state: RecordState | 'adopted';
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
  await writeFileAtomic(layout.record(record.name), `${JSON.stringify(record, null, 2)}\n`);
}

export async function removeRecord(layout: Layout, name: string): Promise<void> {
  await rm(layout.record(name), { force: true });
}

export async function readRecords(layout: Layout): Promise<Map<string, DeploymentRecord>> {
  const records = new Map<string, DeploymentRecord>();
  let files: string[];
  try {
    files = await readdir(layout.records);
  } catch (error) {
    if (isNotFound(error)) return records;
    throw error;
  }
  for (const file of files) {
    if (!file.endsWith('.json')) continue;
    try {
      const record = JSON.parse(await readFile(`${layout.records}/${file}`, 'utf8')) as DeploymentRecord;
      records.set(record.name, record);
    } catch {
      // A torn or foreign file cannot come from writeFileAtomic; ignoring it only loses a label.
    }
  }
  return records;
}

/** Every deployment directory in the root, newest first (see orderNewestFirst), joined with its record. */
export async function listDeployments(layout: Layout, now = Date.now()): Promise<Deployment[]> {
  const [entries, records] = await Promise.all([readdir(layout.root, { withFileTypes: true }), readRecords(layout)]);
  const found: Deployment[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const parsed = parseDeploymentName(entry.name);
    if (!parsed) continue;
    const record = records.get(entry.name);
    found.push(record ? { ...parsed, state: record.state, record } : { ...parsed, state: 'adopted' });
  }
  return orderNewestFirst(found, now);
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
  await appendFile(layout.activations, `${JSON.stringify(activation)}\n`);
}

/**
 * Activations kept once activations.jsonl is trimmed (at twice that). Rollback only needs the
 * latest activation of each deployment still on disk, a handful of lines from the end.
 */
export const ACTIVATIONS_KEEP = 1000;

export async function trimActivations(layout: Layout): Promise<number> {
  return (await keepNewestLines(layout.activations, ACTIVATIONS_KEEP))?.dropped ?? 0;
}

/** Oldest first. A line torn by a crash mid-append is skipped. */
export async function readActivations(layout: Layout): Promise<Activation[]> {
  let text: string;
  try {
    text = await readFile(layout.activations, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  const list: Activation[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      list.push(JSON.parse(line) as Activation);
    } catch {
      // Only the last line can be torn (append after a kill -9); the rest stays valid.
    }
  }
  return list;
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
