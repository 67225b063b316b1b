// One log file per run under .mfd/logs/<run id>.log: every progress line and all build output.
// Appends synchronously so nothing is lost when the process is killed right after a line.
import { appendFileSync, mkdirSync } from 'node:fs';
import type { Layout } from './layout.ts';

export interface RunLog {
  runId: string;
  file: string;
  write(text: string): void;
}

export function openRunLog(layout: Layout, now: number, command: string): RunLog {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const runId = `${stamp}-${command}-${process.pid}`;
  const file = layout.log(runId);
  mkdirSync(layout.logs, { recursive: true });
  return {
    runId,
    file,
    write(text) {
      try {
        appendFileSync(file, text);
      } catch {
        // The log is a copy of what the terminal shows; a full disk must not fail the deploy.
      }
    },
  };
}
