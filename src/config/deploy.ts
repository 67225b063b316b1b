// The [deploy] section: how many deployments to keep, and the free space a fetch or build needs.
import * as z from 'zod/mini';
import { valueAt } from './issue.ts';
import { opt, whole, type Add, optString } from './shape.ts';
import { lazily } from '../sys/lazy.ts';
import { parseSize } from './size.ts';

export interface DeployConfig {
  keep: number;
  minFreeBytes: number;
}

export const DeploySchema = lazily(() => opt(z.strictObject({ keep: opt(whole(1)), min_free: optString })));

const MIN_FREE_DEFAULT = 100 * 1024 ** 2;

/** `deploy.min_free` in bytes (the default when absent or wrong), reporting a bad one. */
export function readMinFree(data: unknown, add: Add): number {
  const minFree = valueAt(data, ['deploy', 'min_free']);
  if (typeof minFree !== 'string') return MIN_FREE_DEFAULT;
  try {
    return parseSize(minFree);
  } catch (error) {
    add(['deploy', 'min_free'], (error as Error).message);
    return MIN_FREE_DEFAULT;
  }
}

export function deployOf(deploy: z.infer<ReturnType<typeof DeploySchema>>, minFreeBytes: number): DeployConfig {
  return { keep: deploy?.keep ?? 3, minFreeBytes };
}
