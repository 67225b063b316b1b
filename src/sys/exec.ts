// The only importer of execa: runs an argv array (never a shell) and reports how it ended.
// Children get their own process group so a timeout or abort kills the whole tree, not just the leader.
import { interruptionOf } from '../errors/run.ts';
import { groupExists, stopGroup } from './termination.ts';
import { groupMembers, isAlive, isRunning, processStartSync } from './process.ts';

export interface RunOptions {
  cwd: string;
  /**
   * The child's whole environment: the Context's (read once, without the test hook), plus what
   * the caller adds. Never read here, so nothing the Context left out can reach a child.
   */
  env: Readonly<Record<string, string | undefined>>;
  /** Variables of `env` the child must not see (secrets such as MFD_REPO_TOKEN). */
  envRemove?: readonly string[];
  /** Written to the child's stdin, which is then closed (default: no stdin at all). */
  input?: string;
  /** Kill the whole process group after this many milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Receives output as it arrives, for live streaming and logs. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /**
   * Called with the child's pid (also its process group id) as soon as it is spawned, and its
   * start time (undefined without /proc), which is what lets anyone prove later that it is this child.
   */
  onSpawn?: (pid: number, start: string | undefined) => void;
  /** Keep this many trailing lines of combined output for error messages (default 20). */
  tailLines?: number;
  /**
   * `stop`: once the leader has exited, what is left in its process group (a job it started in
   * the background) is stopped as an interrupted group is, with a short grace; the run ends
   * after it is gone, and `leftovers` says how many there were. `keep` (the default): left alone.
   */
  leftovers?: 'keep' | 'stop';
}

export type RunOutcome =
  | { kind: 'exited'; exitCode: number }
  | { kind: 'signaled'; signal: string }
  | { kind: 'timed-out'; timeoutMs: number }
  | { kind: 'aborted' }
  | { kind: 'spawn-failed'; reason: string };

export interface RunResult {
  argv: string[];
  ok: boolean;
  outcome: RunOutcome;
  /** Last lines of stdout and stderr interleaved as they arrived. */
  tail: string;
  stdout: string;
  durationMs: number;
  /** With `leftovers: 'stop'`: how many processes of its group outlived the leader and were stopped (undefined: none). */
  leftovers?: { count: number | undefined };
}

const MAX_CAPTURE = 1 << 20;
/** How often, once the child has exited, its process group is looked at while its pipes stay open. */
const GROUP_POLL_MS = 50;
/** How long output is still read after a killed or stopped group's leader has exited. */
const DRAIN_MS = 200;
/** What a process left behind by its leader gets between SIGTERM and SIGKILL: a job's clean-up, not a build's. */
const LEFTOVER_GRACE_MS = 2000;

/**
 * Loads execa now, for a caller waiting on something else anyway (a fetch, while the server builds
 * the pack): compiling and evaluating it is ~12 ms the first build command would otherwise wait.
 * A failure is left for run() to meet.
 */
export function preloadExec(): void {
  import('execa').catch(() => undefined);
}

export async function run(argv: readonly string[], options: RunOptions): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new TypeError('run: empty argv');
  const started = performance.now();
  const tailLines = options.tailLines ?? 20;
  let combined = '';
  let stdout = '';

  const env: Record<string, string | undefined> = { ...options.env };
  for (const name of options.envRemove ?? []) delete env[name];
  // Loaded on the first run, not with this module: a redeploy with nothing to build or restart
  // never pays for it (see scripts/build.mjs).
  const { execa } = await import('execa');
  const child = execa(file, args, {
    cwd: options.cwd,
    env,
    extendEnv: false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    reject: false,
    buffer: false,
    detached: true,
    stripFinalNewline: false,
  });

  // Read before this function yields: the child cannot have been reaped yet, so the pid is still it.
  if (child.pid !== undefined) options.onSpawn?.(child.pid, processStartSync(child.pid));
  const capture = (stream: 'stdout' | 'stderr') => (data: Buffer) => {
    const text = data.toString('utf8');
    options.onOutput?.(text, stream);
    combined = (combined + text).slice(-MAX_CAPTURE);
    if (stream === 'stdout') stdout = (stdout + text).slice(-MAX_CAPTURE);
  };
  child.stdout?.on('data', capture('stdout'));
  child.stderr?.on('data', capture('stderr'));

  // A process that left the group (setsid, a daemon) can hold the pipes open for ever, and no
  // timeout or interrupt can stop it. Once the child has exited and nothing of its group is left
  // (seen twice, so what they wrote last is read), nothing mfd started is writing: stop reading.
  let polling: NodeJS.Timeout | undefined;
  let leftovers: Promise<RunResult['leftovers']> | undefined;
  child.once('exit', () => {
    if (options.leftovers === 'stop') leftovers = stopLeftovers();
    let empty = 0;
    const look = () => {
      if (child.pid === undefined || (child.stdout?.closed && child.stderr?.closed)) return;
      // Not ours any more (the leader reaped, its pid another's): ours is gone, or the id could not be reused.
      empty = groupExists(child.pid) && ours() ? 0 : empty + 1;
      if (empty < 2) polling = setTimeout(look, GROUP_POLL_MS);
      else for (const stream of [child.stdout, child.stderr]) stream?.destroy();
    };
    polling = setTimeout(look, GROUP_POLL_MS);
  });

  let timedOut = false;
  let aborted = false;
  // The group is the child's own (detached). Node reaps the leader and sets its exit status in one
  // step, so until then its pid (the group's id) is nobody else's. Once reaped, a process given
  // that pid may lead a group of its own: the group is ours only while no process has the pid
  // (members of ours left behind keep the kernel from handing it out).
  const ours = () => (child.exitCode === null && child.signalCode === null) || !isAlive(child.pid!);
  const killTree = (sig: NodeJS.Signals) => {
    if (child.pid === undefined || child.pid <= 1 || !ours()) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // ESRCH: the group is already gone, which is what we wanted.
    }
  };
  // Once the group is killed or stopped, what still holds the output open left the group (setsid):
  // not ours to signal, and never a reason to wait past the timeout. What it still had to say is
  // read for a moment, then the pipes are let go, which ends the wait.
  let release: NodeJS.Timeout | undefined;
  let settled = false;
  const letGo = () => {
    if (settled) return;
    const drop = () => (release ??= setTimeout(() => (child.stdout?.destroy(), child.stderr?.destroy()), DRAIN_MS));
    if (child.exitCode !== null || child.signalCode !== null) drop();
    else child.once('exit', drop);
  };
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          killTree('SIGKILL');
          letGo();
        }, options.timeoutMs);
  // Interrupted: SIGTERM to the group, SIGKILL after a grace period (at once on a second signal),
  // and the run waits until the whole group is gone, so nothing it started outlives mfd.
  let stopping: Promise<void> | undefined;
  // Asked as soon as the leader is reaped: while any process of its group is left, the kernel
  // hands its pid (the group's id) to nobody, so `ours` holds until that group is gone.
  const stopLeftovers = async (): Promise<RunResult['leftovers']> => {
    const pid = child.pid;
    if (pid === undefined || !groupExists(pid) || !ours()) return undefined;
    let members = await groupMembers(pid);
    if (members?.length === 0) return undefined;
    const count = members?.length;
    // The orphans' new parent may be slow to reap them (a container's pid 1 that never does): gone
    // once those seen are dead and a last look finds no other (one forked meanwhile) left.
    const settled = async () => {
      for (const member of members ?? []) if (await isRunning(member)) return false;
      members = await groupMembers(pid);
      return members !== undefined && members.length === 0;
    };
    const hurry = interruptionOf(options.signal)?.hurry;
    await stopGroup(pid, { ours, settled, graceMs: LEFTOVER_GRACE_MS, ...(hurry ? { hurry } : {}) }).catch(() => {
      // EPERM: a job that now runs as another user (setuid); mfd cannot stop it.
    });
    return { count };
  };
  const onAbort = () => {
    aborted = true;
    if (child.pid === undefined) return;
    const hurry = interruptionOf(options.signal)?.hurry;
    stopping = stopGroup(child.pid, { ours, ...(hurry ? { hurry } : {}) }).catch(() => {
      // EPERM: the group now runs as another user (a setuid build step); mfd cannot stop it.
    }).then(letGo);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  const result = await child;
  clearTimeout(polling);
  settled = true;
  if (timer) clearTimeout(timer);
  if (release) clearTimeout(release);
  options.signal?.removeEventListener('abort', onAbort);
  await stopping;
  // A job that let go of the output is not waited for by `child`: the run ends once it is stopped.
  const stopped = await leftovers;

  let outcome: RunOutcome;
  if (timedOut) outcome = { kind: 'timed-out', timeoutMs: options.timeoutMs! };
  else if (aborted) outcome = { kind: 'aborted' };
  else if (result.failed && result.exitCode === undefined && result.signal === undefined)
    outcome = { kind: 'spawn-failed', reason: result.originalMessage ?? result.shortMessage ?? 'unknown error' };
  else if (result.signal) outcome = { kind: 'signaled', signal: result.signal };
  else outcome = { kind: 'exited', exitCode: result.exitCode ?? 0 };

  return {
    argv: [...argv],
    ok: outcome.kind === 'exited' && outcome.exitCode === 0,
    outcome,
    tail: lastLines(combined, tailLines),
    stdout,
    durationMs: performance.now() - started,
    ...(stopped ? { leftovers: stopped } : {}),
  };
}

export function describeOutcome(outcome: RunOutcome): string {
  switch (outcome.kind) {
    case 'exited':
      return `exit status ${outcome.exitCode}`;
    case 'signaled':
      return `signal ${outcome.signal}`;
    case 'timed-out':
      return `timeout after ${outcome.timeoutMs} ms (process group killed)`;
    case 'aborted':
      return 'abort (process group terminated)';
    case 'spawn-failed':
      return `could not start: ${outcome.reason}`;
  }
}

function lastLines(text: string, n: number): string {
  const lines = text.replace(/\n+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}
