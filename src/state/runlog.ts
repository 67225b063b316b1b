// One log file per run under .mfd/logs/<run id>.log: every progress line and all build output,
// written by a subscriber of the run's events.
// Appends synchronously so nothing is lost when the process is killed right after a line. The log
// is a copy of what the terminal shows: failing to write it (a full disk, a root-owned .mfd) is
// reported once, never the end of a rollback; a deploy's build decides itself (see deploy.ts).
import { closeSync, constants, mkdirSync, openSync, writeSync } from 'node:fs';
import { FsLayoutError, toFsError } from '../errors/index.ts';
import { open } from '../sys/files.ts';
import type { Layout } from './layout.ts';
import type { Subscriber } from '../sys/events.ts';
import { eventLines } from '../sys/render.ts';

export interface RunLog {
  runId: string;
  file: string;
  write(text: string): void;
  /** The first write that failed, if any. */
  readonly failure: unknown;
}

/** The id openRunLog gives a run: `<UTC second>-<command>-<pid>`, then `-<n>` for a second run in that second. */
const RUN_LOG_ID = /^\d{8}T\d{6}Z-[a-z]{1,20}-\d{1,10}(?:-\d{1,10})?$/;

/** Whether `id` is one mfd gives a run (so ids compare in time order), not just any name a file may have. */
export function isRunLogId(id: unknown): id is string {
  return typeof id === 'string' && RUN_LOG_ID.test(id);
}

/**
 * Opens the log of a new run. Its id is its UTC second, command and pid; the file is created at
 * once, exclusively, so a second run of this process in the same second takes the id with "-2"
 * (and so on) instead of writing into the first one's log.
 */
export function openRunLog(layout: Layout, now: number, command: string, pid: number, onFailure?: (error: unknown) => void): RunLog {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = `${stamp}-${command}-${pid}`;
  let failure: unknown;
  const fail = (error: unknown) => {
    if (failure !== undefined) return;
    failure = error;
    onFailure?.(error);
  };
  let runId = base;
  try {
    mkdirSync(layout.logs, { recursive: true });
    for (let n = 2; ; n++) {
      try {
        closeSync(openSync(layout.log(runId), 'wx'));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        runId = `${base}-${n}`;
      }
    }
  } catch (error) {
    // No log to write (a full disk, a root-owned .mfd): reported once; the run goes on without it.
    fail(error);
  }
  const file = layout.log(runId);
  return {
    runId,
    file,
    get failure() {
      return failure;
    },
    write(text) {
      try {
        appendNoFollow(file, text);
      } catch (error) {
        fail(error);
      }
    },
  };
}

/**
 * Appends `text` to `file`, never through a link: a log swapped for one mid-run (by anyone who can
 * write .mfd/logs) would have the run's output, build secrets and all, written wherever it points.
 * Opened per write, as appendFileSync did, so nothing stays open across a long-running serve.
 */
function appendNoFollow(file: string, text: string): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  try {
    const bytes = Buffer.from(text);
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
  } finally {
    closeSync(fd);
  }
}

/** Writes a run's events into its log: the lines the terminal shows, the build output, and how it ended. */
export function runLogSubscriber(log: RunLog): Subscriber {
  return (event) => {
    if (event.type === 'output') log.write(event.chunk);
    else if (event.type === 'run-finished') {
      if (event.error) log.write(`error: ${event.error.message}\n`);
    } else for (const line of eventLines(event)) log.write(`${line}\n`);
  };
}

/**
 * A run's log, or undefined when it is gone (pruned with its deployment): the whole of it, or
 * its last `lastBytes` (`cut`: how many bytes before them are left out). The file is input: a
 * link is never followed (O_NOFOLLOW: ELOOP), and anything but a plain file (a fifo would block,
 * a device never end) is refused; both are FsLayoutErrors naming the path.
 */
export async function readRunLogText(layout: Layout, runId: string, lastBytes = Infinity): Promise<{ text: string; cut: number } | undefined> {
  const file = layout.log(runId);
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw toFsError(error, { path: file, op: 'open' }) ?? error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new FsLayoutError({ code: info.isDirectory() ? 'EISDIR' : 'EEXIST', op: 'open', path: file });
    const cut = Math.max(0, info.size - lastBytes);
    const buffer = Buffer.alloc(info.size - cut);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, cut);
    return { text: buffer.subarray(0, bytesRead).toString('utf8'), cut };
  } finally {
    await handle.close();
  }
}
