// Posts a run's commit statuses: one queue per sha (so its posts reach the forge in order), a
// marker under .mfd/status before each pending, and a bounded end: drain() waits at most
// [status] timeout, then abandons what is left. Nothing here throws into the run.
import type { StatusConfig } from '../config/status.ts';
import type { Layout } from '../state/layout.ts';
import { describeFailure } from '../state/best-effort.ts';
import { OWED_MAX_MS, readMarkers, removeMarker, writeMarker, writeOwedMarker, type FinalState, type Marker } from './markers.ts';
import { statusRequest, type StatusPost } from './request.ts';
import { sendStatus } from './send.ts';
import { matchProcess, processStart } from '../sys/process.ts';

export interface PosterOptions {
  config: StatusConfig;
  layout: Layout;
  runId: string;
  now: () => number;
  /** An error line for the run's log (and a warning on the terminal): a post that finally failed. */
  report: (message: string, hint?: string) => void;
  fetch?: typeof fetch;
}

const short = (sha: string) => sha.slice(0, 7);

export class StatusPoster {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly giveUp = new AbortController();
  private warnedNoToken = false;

  constructor(private readonly options: PosterOptions) {}

  /** A `pending` that a killed run must not leave open: its marker is written before it is sent. */
  pending(post: StatusPost): void {
    this.enqueue(post.sha, async () => {
      if (!this.hasToken()) return;
      const { pid } = this.options.layout;
      const start = await processStart(pid);
      const marker = { sha: post.sha, runId: this.options.runId, at: new Date(this.options.now()).toISOString(), pid, ...(start ? { start } : {}) };
      await this.keep(marker);
      await this.send(post, 'the run goes on; its final status follows');
    });
  }

  /** A final state: once the forge has it, the commit's marker goes; if it never gets it, the marker keeps it for the next run. */
  final(post: StatusPost & { state: FinalState }): void {
    this.enqueue(post.sha, () => this.settle(post, this.options.runId));
  }

  /**
   * Closes what earlier runs left (call holding the deploy lock, before this run posts): a pending
   * of a killed run becomes `error` "interrupted", a final state that was not posted is sent again.
   */
  async closeStale(onWarning: (message: string) => void): Promise<void> {
    let markers: Marker[];
    try {
      markers = await readMarkers(this.options.layout, onWarning);
    } catch (error) {
      onWarning(`cannot read .mfd/status: ${describeFailure(error).message}; statuses earlier runs left open stay so`);
      return;
    }
    for (const m of markers) {
      if (m.runId === this.options.runId) continue;
      // The deploy lock is let go before a run's final posts are sent: a pending whose writer still
      // runs (proved by pid and start time) is a live run's, which posts its final state itself.
      if (!m.final && m.pid !== undefined && (await matchProcess(m.pid, m.start)).kind === 'same') continue;
      const final = m.final ?? { state: 'error' as const, description: `Interrupted: run ${m.runId} ended before it could report`.slice(0, 140) };
      // A `since` after now (the clock was set back since it was written) counts as now, or the
      // week below would never pass and the post would be sent again by every run for ever.
      const since = new Date(Math.min(Date.parse(m.since ?? m.at), this.options.now())).toISOString();
      // Owed for a week: the forge will not take it (a revoked token, a deleted repository), and
      // every run would try again, one more warning per commit deployed since.
      if (this.options.now() - Date.parse(since) > OWED_MAX_MS) {
        await removeMarker(this.options.layout, m.sha, m.runId).catch(() => undefined);
        this.options.report(`gave up commit status ${final.state} for ${short(m.sha)}: ${this.options.config.provider} has not taken it since ${since}${m.error ? ` (last: ${m.error})` : ''}`,
          'check [status] token; post it by hand if it still matters');
        continue;
      }
      this.enqueue(m.sha, () => this.settle({ sha: m.sha, ...final }, m.runId, since));
    }
  }

  /** Waits for every queued post, at most [status] timeout; then abandons the rest (each reported). */
  async drain(): Promise<void> {
    const all = () => Promise.allSettled([...this.queues.values()]);
    let timer: NodeJS.Timeout | undefined;
    const out = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.config.timeoutMs)));
    await Promise.race([all(), out]);
    clearTimeout(timer);
    this.giveUp.abort();
    await all();
  }

  private async settle(post: StatusPost & { state: FinalState }, runId: string, since?: string): Promise<void> {
    const why = await this.send(post, 'the run\'s outcome is unchanged; the next deploy or rollback sends it again');
    if (why === undefined) {
      await removeMarker(this.options.layout, post.sha, runId).catch((error: unknown) =>
        this.options.report(`cannot remove .mfd/status/${post.sha}.json: ${describeFailure(error).message}`, 'the next deploy or rollback posts its state again'));
      return;
    }
    if (why === null) return;
    const final = { state: post.state, description: post.description, ...(post.targetUrl ? { targetUrl: post.targetUrl } : {}) };
    const at = new Date(this.options.now()).toISOString();
    // Only over this run's own marker: a later run's for the commit is that run's to close.
    await this.keep({ sha: post.sha, runId, at, final, error: why.slice(0, 500), since: since ?? at }, writeOwedMarker);
  }

  /** undefined: posted; null: not attempted (no token); else why it failed (already reported). */
  private async send(post: StatusPost, hint: string): Promise<string | undefined | null> {
    const { config } = this.options;
    if (!this.hasToken() || !config.token) return null;
    const token = config.token.reveal();
    const result = await sendStatus(statusRequest(config, post, token), { signal: this.giveUp.signal, attemptMs: config.timeoutMs, now: this.options.now, secret: token, ...(this.options.fetch ? { fetch: this.options.fetch } : {}) });
    if (result.ok) return undefined;
    // A forge that echoes the request must not put the token in our log.
    const why = result.why.split(token).join('***');
    this.options.report(`commit status ${post.state} for ${short(post.sha)} not posted to ${config.provider}: ${why}`, hint);
    return why;
  }

  /** Without a token nothing is sent, said once per run (a config that cannot post is not a failed deploy). */
  private hasToken(): boolean {
    const { config } = this.options;
    if (config.token) return true;
    if (!this.warnedNoToken) {
      this.warnedNoToken = true;
      this.options.report(`commit statuses not posted to ${config.provider}: no token`, 'set [status] token or token_file, or MFD_STATUS_TOKEN');
    }
    return false;
  }

  private async keep(marker: Marker, write: (layout: Layout, marker: Marker) => Promise<unknown> = writeMarker): Promise<void> {
    try {
      await write(this.options.layout, marker);
    } catch (error) {
      this.options.report(`cannot write .mfd/status/${marker.sha}.json: ${describeFailure(error).message}`, 'if this run is killed, its pending status stays on the commit');
    }
  }

  private enqueue(sha: string, task: () => Promise<void>): void {
    const tail = this.queues.get(sha) ?? Promise.resolve();
    this.queues.set(sha, tail.then(task).catch((error: unknown) => this.options.report(`commit status for ${short(sha)}: ${describeFailure(error).message}`)));
  }
}
