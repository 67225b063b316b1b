// One log file per run under .mfd/logs/<run id>.log: every progress line and all build output.
// Appends synchronously so nothing is lost when the process is killed right after a line. The log
// is a copy of what the terminal shows: failing to write it (a full disk, a root-owned .mfd) is
// reported once, never the end of a rollback; a deploy's build decides itself (see deploy.ts).
import { appendFileSync, mkdirSync } from 'node:fs';
import type { Layout } from './layout.ts';

export interface RunLog {
  runId: string;
  file: string;
  write(text: string): void;
  /** The first write that failed, if any. */
  readonly failure: unknown;
}

export function openRunLog(layout: Layout, now: number, command: string, onFailure?: (error: unknown) => void): RunLog {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const runId = `${stamp}-${command}-${process.pid}`;
  const file = layout.log(runId);
  let failure: unknown;
  let ready = false;
  return {
    runId,
    file,
    get failure() {
      return failure;
    },
    write(text) {
      try {
        if (!ready) mkdirSync(layout.logs, { recursive: true });
        ready = true;
        appendFileSync(file, text);
      } catch (error) {
        if (failure !== undefined) return;
        failure = error;
        onFailure?.(error);
      }
    },
  };
}
