// The shape a line of .mfd/history.jsonl must have when read back: its run id names a log file,
// so it is checked like a path; the rest like any report a command prints.
import * as z from 'zod/mini';
import type { HistoryEntry } from './history.ts';
import { runId, sha, timestamp } from './stored.ts';
import { lazily } from '../sys/lazy.ts';

const nullable = z.nullable;

// Not strict: a newer mfd may add fields. Made when a history is first read: its 40 schemas cost
// every command that imports this module (mfd ls does, through recovery) 2 M instructions.
export const HistoryEntrySchema = lazily(() => z.object({
  runId,
  command: z.enum(['deploy', 'rollback']),
  user: z.string(),
  trigger: z.optional(z.string()),
  ref: nullable(z.string()),
  sha: nullable(sha),
  deployment: nullable(z.string()),
  start: timestamp,
  end: timestamp,
  steps: z.array(z.object({ step: z.string(), ms: z.number(), ok: z.boolean() })),
  outcome: z.enum(['success', 'failed', 'rolled-back', 'needs-attention', 'interrupted', 'refused']),
  error: nullable(z.object({ code: z.string(), message: z.string() })),
  log: z.string(),
  reused: z.optional(z.array(z.object({ command: z.int().check(z.gte(0)), argv: z.array(z.string()), from: z.string(), outputs: z.array(z.string()) }))),
}));

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const entryMatches: Same<z.infer<ReturnType<typeof HistoryEntrySchema>>, HistoryEntry> = true;
void entryMatches;
