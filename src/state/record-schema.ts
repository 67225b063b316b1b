// The shape a deployment record and an activation line must have when read back from .mfd/.
// A record must also name its own file, and its sha must be the one in that name.
import * as z from 'zod/mini';
import { parseDeploymentName } from './deployment.ts';
import type { Activation, DeploymentRecord } from './record.ts';
import { describeIssue, positiveInt, runId, sha, timestamp } from './stored.ts';

const deploymentName = z.string().check(z.refine((s) => parseDeploymentName(s) !== undefined, 'expected mfd_<unix>_<sha>'));
const startTime = z.string().check(z.regex(/^\d{1,20}$/, 'expected a start time in clock ticks'));

// Not strict: a newer mfd may add fields; what this one acts on must be right.
const RecordSchema = z.object({
  name: deploymentName,
  sha,
  ref: z.string(),
  fingerprint: z.string(),
  state: z.enum(['building', 'built', 'healthy', 'failed', 'rolled-back']),
  createdAt: timestamp,
  updatedAt: timestamp,
  pid: z.optional(positiveInt),
  pidStart: z.optional(startTime),
  runId: z.optional(runId),
  buildPgid: z.optional(positiveInt),
  buildPgidStart: z.optional(startTime),
  error: z.optional(z.string()),
  cacheKeys: z.optional(z.array(z.string().check(z.regex(/^[0-9a-f]{64}$/, 'expected a sha256 cache key')))),
});

export const ActivationSchema = z.object({
  name: deploymentName,
  sha,
  at: timestamp,
  command: z.enum(['deploy', 'rollback', 'auto-rollback']),
});

// Both directions: the schema's type must stay the interface's.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const recordMatches: Same<z.infer<typeof RecordSchema>, DeploymentRecord> = true;
const activationMatches: Same<z.infer<typeof ActivationSchema>, Activation> = true;
void recordMatches;
void activationMatches;

export function validateRecord(file: string, text: string): { ok: true; record: DeploymentRecord } | { ok: false; why: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, why: 'not JSON' };
  }
  const parsed = RecordSchema.safeParse(value);
  if (!parsed.success) return { ok: false, why: describeIssue(parsed.error) };
  const record = parsed.data;
  if (record.name !== file) return { ok: false, why: `it names ${record.name}, not ${file}` };
  if (parseDeploymentName(record.name)!.sha !== record.sha) return { ok: false, why: `its sha ${record.sha} is not the one in its name` };
  return { ok: true, record };
}
