// The loop's hold, .mfd/pause.json: who paused continuous deployment, when and why. Its presence
// is the hold (manual deploys ignore it); written atomically, read back as input.
import { lstat, mkdir, rm } from '../sys/files.ts';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { writeFileAtomic } from './atomicfile.ts';
import type { Layout } from './layout.ts';
import { describeIssue, readStateText, timestamp } from './stored.ts';

export interface PauseRecord {
  user: string;
  host: string;
  /** ISO time. */
  at: string;
  reason: string | null;
}

/** None; a hold; or a file that cannot be read back, which holds the loop all the same (the safe side). */
export type PauseState = { paused: false } | { paused: true; record: PauseRecord } | { paused: true; problem: string };

const PauseSchema = z.object({ user: z.string(), host: z.string(), at: timestamp, reason: z.nullable(z.string()) });

/** Named here, beside its only reader and writer: the loop's records are no part of Go mfd's layout. */
export const pauseFile = (layout: Layout): string => join(layout.state, 'pause.json');

export async function readPause(layout: Layout): Promise<PauseState> {
  const file = pauseFile(layout);
  const text = await readStateText(file);
  if (text === undefined) return { paused: false };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { paused: true, problem: `${file}: not JSON` };
  }
  const parsed = PauseSchema.safeParse(value);
  return parsed.success ? { paused: true, record: parsed.data } : { paused: true, problem: `${file}: ${describeIssue(parsed.error)}` };
}

export async function writePause(layout: Layout, record: PauseRecord): Promise<void> {
  await mkdir(layout.state, { recursive: true });
  await writeFileAtomic(pauseFile(layout), `${JSON.stringify(record)}\n`, { writer: layout.pid });
}

/** Removes the hold; false when there was none. */
export async function removePause(layout: Layout): Promise<boolean> {
  const file = pauseFile(layout);
  try {
    await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  // rm removes a link itself, never what it points at.
  await rm(file, { force: true });
  return true;
}
