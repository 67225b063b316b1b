// The [lock] section: waiting for a held lock, when a lock is stale, and the host-wide locks an
// app opts into (the host lock, named shared resources) with their directory.
import { dirname, resolve } from 'node:path';
import * as z from 'zod/mini';
import { opt, whole, optText, optString } from './shape.ts';
import { lazily } from '../sys/lazy.ts';

export interface LockConfig {
  /** Wait for a held lock instead of failing at once (also `mfd deploy --wait`). */
  wait: boolean;
  retryIntervalMs: number;
  retryAttempts: number;
  /** A lock without a heartbeat for this long is stale. */
  staleMs: number;
  /** Also take the host-wide lock: no two opted-in apps on this host deploy at once. */
  host: boolean;
  /** Named shared resources (e.g. a database two apps migrate), locked host-wide. */
  resources: string[];
  /** Directory of host-wide locks; default /run/lock/mfd (or /var/lock/mfd). */
  dir?: string;
}

/**
 * The longest resource name: it is part of two file names in the host lock dir,
 * `resource-<name>.lock` and its guard `….lock.guard`, and a file name holds 255 bytes at most.
 */
export const RESOURCE_NAME_MAX = 255 - 'resource-'.length - '.lock.guard'.length;
export const RESOURCE_NAME = new RegExp(`^[A-Za-z0-9._-]{1,${RESOURCE_NAME_MAX}}$`);

export const LockSchema = lazily(() => opt(
  z.strictObject({
    wait: opt(z.boolean()),
    retry_interval: optString,
    retry_attempts: opt(whole(1)),
    stale: optString,
    host: opt(z.boolean()),
    resources: opt(z.array(z.string().check(z.regex(RESOURCE_NAME, `expected letters, digits, ".", "_" and "-" only, at most ${RESOURCE_NAME_MAX} of them (the name is part of its lock file's name)`)))),
    dir: optText,
  }),
));

/** `file` is mfd.toml's path: a relative `dir` is taken from its directory. */
export function lockOf(lock: z.infer<ReturnType<typeof LockSchema>>, ms: { retryIntervalMs: number; staleMs: number }, file: string): LockConfig {
  return {
    wait: lock?.wait ?? false,
    retryIntervalMs: ms.retryIntervalMs,
    retryAttempts: lock?.retry_attempts ?? 60,
    staleMs: ms.staleMs,
    host: lock?.host ?? false,
    resources: [...new Set(lock?.resources ?? [])].sort(),
    ...(lock?.dir ? { dir: resolve(dirname(file), lock.dir) } : {}),
  };
}
