// A held lock file's heartbeat: its mtime refreshed every interval by a worker thread as well as
// by a timer of the main one. A checkout writes its whole tree in one synchronous stretch (seconds
// for a large tree), in which no timer of the main thread fires; another host, which judges the
// lock by its heartbeat alone, would take a live deploy's lock once that looked `stale` old.
// node:worker_threads is loaded on the first use of Worker (scripts/build.mjs LAZY_BUILTINS).
import { Worker } from 'node:worker_threads';

/** The worker: plain CommonJS, evaluated; it only touches `file` until it is terminated. */
const BEAT = `
const { utimesSync } = require('node:fs');
const { workerData: { file, intervalMs, startedAt } } = require('node:worker_threads');
// The Context's clock at the start, moved on by this thread's monotonic one (a few ms late at most).
const started = performance.now();
setInterval(() => {
  const t = new Date(startedAt + performance.now() - started);
  // Deleted by hand: there is nothing to refresh (the main thread's beat ignores it too).
  try { utimesSync(file, t, t); } catch {}
}, intervalMs);
`;

export interface Heartbeat {
  /** Stops both beats; once it resolves, nothing touches the file any more (release may remove it). */
  stop(): Promise<void>;
}

/** `beat` on the main thread, and the same touch from a worker, every `intervalMs`, on `now`'s clock. */
export function startHeartbeat(file: string, intervalMs: number, now: () => number, beat: () => Promise<void>): Heartbeat {
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  let worker: Worker | undefined;
  try {
    worker = new Worker(BEAT, { eval: true, workerData: { file, intervalMs, startedAt: now() } });
    worker.unref();
    // A thread that cannot start (a container's task limit): the main thread's beat still runs.
    worker.on('error', () => undefined);
  } catch {
    // The same, refused at once: the main thread's beat is the heartbeat, as before.
    worker = undefined;
  }
  return {
    async stop() {
      clearInterval(timer);
      await worker?.terminate();
    },
  };
}
