// GET /api/events: the deploy under way as server-sent events. `run` carries the whole run so far
// (null when none) at connect and after each change, coalesced; `finished` its outcome. A comment
// line every 15 s keeps proxies from closing an idle stream; streams are few and bounded, and so is
// what each buffers: a client that stops reading gets the latest `run` once it drains, not every one.
import type { ServerResponse } from 'node:http';
import type { LiveRuns } from './events.ts';
import { runningOf } from './status-api.ts';

export const MAX_STREAMS = 32;
const KEEPALIVE_MS = 15_000;

export class EventStreams {
  private readonly open = new Set<ServerResponse>();

  constructor(private readonly live: LiveRuns) {}

  /** Starts a stream on `res`; false (nothing written) when MAX_STREAMS are open already. */
  start(res: ServerResponse): boolean {
    if (this.open.size >= MAX_STREAMS) return false;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    this.open.add(res);
    let queued = false;
    let behind = false;
    const sendRun = () => {
      queued = false;
      // Each `run` holds the whole run so far, so the ones a slow client would miss lose nothing.
      if (res.writableNeedDrain) {
        behind = true;
        return;
      }
      const run = this.live.run;
      write(res, 'run', run ? runningOf(run) : null);
    };
    res.on('drain', () => {
      if (!behind) return;
      behind = false;
      sendRun();
    });
    const stop = this.live.listen((event) => {
      if (event.type === 'finished') return write(res, 'finished', { outcome: event.outcome, sha: event.sha });
      // A build printing fast must not become one event per chunk: one per turn of the event loop.
      if (!queued) {
        queued = true;
        setImmediate(sendRun);
      }
    });
    const keepalive = setInterval(() => {
      if (!res.writableNeedDrain) res.write(': keep-alive\n\n');
    }, KEEPALIVE_MS);
    keepalive.unref();
    res.on('close', () => {
      clearInterval(keepalive);
      stop();
      this.open.delete(res);
    });
    sendRun();
    return true;
  }

  get size(): number {
    return this.open.size;
  }
}

function write(res: ServerResponse, event: string, data: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  // JSON has no raw newline, so one data: line holds it.
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
