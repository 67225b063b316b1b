// GET /api/status: the facts the status page shows, as one JSON document read afresh from .mfd/
// (records, activations, history, pause, quarantine, the lock) plus the loop's run under way.
// Read-only, as `mfd status` is: it never repairs, so it never needs the lock.
import { basename } from 'node:path';
import type { Context } from '../context.ts';
import { redactUrl } from '../git/transport.ts';
import { appLock } from '../lock/names.ts';
import { readNewestHistory, type HistoryEntry } from '../state/history.ts';
import { readPause } from '../state/pause.ts';
import { readQuarantine } from '../state/quarantine.ts';
import { listDeployments, readAllRecords, readLastActivationOf, type Deployment } from '../state/record.ts';
import { readActive } from '../steps/activate.ts';
import type { LiveRun, LiveStep } from './events.ts';

/** How many runs the page lists, newest first. */
export const RUNS_SHOWN = 20;

export type Health = 'healthy' | 'unchecked' | 'unhealthy' | 'missing';

export interface RunRow {
  runId: string;
  command: HistoryEntry['command'];
  trigger: string;
  user: string;
  ref: string | null;
  sha: string | null;
  /** The commit it deployed or tried to: its sha, else that of the deployment its record says it built. */
  commit: string | null;
  outcome: HistoryEntry['outcome'];
  start: string;
  durationMs: number;
  error: { code: string; message: string } | null;
  /** Relative to the page: runs/<id>/log. */
  log: string;
}

/** The loop's deploy under way, as the page and the event stream (GET /api/events) give it. */
export interface LoopRunning {
  by: 'loop';
  runId: string | null;
  startedAt: string;
  steps: (Omit<LiveStep, 'startedAt'> & { startedAt: string })[];
  tail: string[];
  log: string | null;
  /** It has ended and its records are being written; the page reloads once they are. */
  finishing: boolean;
}

export interface StatusDocument {
  app: { name: string; root: string; repo: string; branch: string; unit: string | null };
  now: string;
  active: { sha: string | null; ref: string | null; directory: string; since: string | null; health: Health; state: string } | null;
  paused: { by: string; at: string; reason: string | null } | { problem: string } | null;
  quarantined: { sha: string; outcome: string; reason: string; at: string; user: string }[];
  /** The loop's latest run that did not deploy, in a line ("... is active", "cannot resolve ..."). */
  loop: { kind: string; text: string } | null;
  running:
    | LoopRunning
    | { by: 'other'; command: string; ref: string | null; holder: string; since: string }
    | null;
  runs: RunRow[];
  /** Records or history lines that could not be read back (skipped, as `mfd status` warns). */
  problems: string[];
}

export interface StatusSources {
  ctx: Pick<Context, 'layout' | 'config' | 'identity' | 'now' | 'root' | 'lockBackend'>;
  /** The watched branch, as a full ref. */
  branch: string;
  live: () => LiveRun | undefined;
  latest: () => { kind: string; text: string } | undefined;
}

export async function readStatus(sources: StatusSources): Promise<StatusDocument> {
  const { layout, config, identity, now, lockBackend } = sources.ctx;
  const problems: string[] = [];
  const warn = (message: string) => void problems.push(message);
  const active = await readActive(layout, warn);
  // Read once: failed builds' records outlive their directories, and say which commit a failed run tried.
  const records = await readAllRecords(layout, warn);
  // The history and the activations are read from their ends, only as far as the page shows:
  // read whole, a history grown long held mfd serve's event loop for the whole parse.
  const [deployments, activation, history, lock, pause, quarantine] = await Promise.all([
    listDeployments(layout, { now: now(), onWarning: warn, records }),
    active ? readLastActivationOf(layout, active, warn) : undefined,
    readNewestHistory(layout, RUNS_SHOWN, warn),
    lockBackend.inspect(appLock(layout), { staleMs: config.lock.staleMs, now, host: identity.host }),
    readPause(layout),
    readQuarantine(layout),
  ]);
  if (!quarantine.ok) warn(`cannot read the quarantine marks: ${quarantine.problem}`);
  const current = deployments.find((d) => d.name === active);
  const since = activation?.at ?? null;
  const built = new Map([...records.valid.values()].flatMap((r) => (r.runId ? [[r.runId, r.sha] as const] : [])));
  const live = sources.live();
  const latest = sources.latest();
  return {
    app: { name: basename(sources.ctx.root), root: sources.ctx.root, repo: redactUrl(config.repo.url), branch: sources.branch, unit: config.systemd.unit ?? null },
    now: new Date(now()).toISOString(),
    active: active
      ? { sha: current?.sha ?? null, ref: current?.record?.ref ?? null, directory: active, since, health: healthOf(current), state: current?.state ?? 'missing' }
      : null,
    paused: !pause.paused ? null : 'record' in pause ? { by: `${pause.record.user}@${pause.record.host}`, at: pause.record.at, reason: pause.record.reason } : { problem: pause.problem },
    quarantined: quarantine.ok ? [...quarantine.marks].map(([sha, m]) => ({ sha, outcome: m.outcome, reason: m.reason, at: m.at, user: m.user })) : [],
    loop: latest ?? null,
    running: live
      ? runningOf(live)
      : lock && !lock.stale && lock.owner
        ? { by: 'other', command: lock.owner.command, ref: lock.owner.ref, holder: `${lock.owner.user}@${lock.owner.hostname} pid ${lock.owner.pid}`, since: new Date(lock.owner.timestamp).toISOString() }
        : null,
    runs: history.map((e) => rowOf(e, built)),
    problems,
  };
}

export function runningOf(live: LiveRun): LoopRunning {
  return {
    by: 'loop',
    runId: live.runId,
    startedAt: new Date(live.startedAt).toISOString(),
    steps: live.steps.map((s) => ({ ...s, startedAt: new Date(s.startedAt).toISOString() })),
    tail: [...live.tail],
    log: live.runId ? logLink(live.runId) : null,
    finishing: live.finishing,
  };
}

export const logLink = (runId: string): string => `runs/${encodeURIComponent(runId)}/log`;

function rowOf(e: HistoryEntry, built: Map<string, string>): RunRow {
  return {
    runId: e.runId,
    command: e.command,
    trigger: e.trigger ?? 'manual',
    user: e.user,
    ref: e.ref,
    sha: e.sha,
    commit: e.sha ?? built.get(e.runId) ?? null,
    outcome: e.outcome,
    start: e.start,
    durationMs: Math.max(0, Date.parse(e.end) - Date.parse(e.start)),
    error: e.error,
    log: logLink(e.runId),
  };
}

/** Only a deployment recorded healthy came up healthy: a built one was activated but never checked. */
function healthOf(d: Deployment | undefined): Health {
  if (!d) return 'missing';
  if (d.state === 'healthy') return 'healthy';
  if (d.state === 'built' || d.state === 'adopted') return 'unchecked';
  return 'unhealthy';
}
