// Where a build's [[build.cache]] outputs may come from: every kept good deployment whose record
// names the keys it produced, newest first, not just the active one (a lockfile may come back).
import type { BuildCacheEntry } from '../config/build.ts';
import type { Layout } from '../state/layout.ts';
import { isGood, listDeployments } from '../state/record.ts';
import { buildCache, type BuildCache } from './build-cache.ts';

export interface CacheForOptions {
  layout: Layout;
  entries: readonly BuildCacheEntry[] | undefined;
  /** The deployment being built: never its own source. */
  name: string;
  dir: string;
  env: Readonly<Record<string, string | undefined>>;
  now: number;
  onWarning: (message: string, hint?: string) => void;
}

/** Undefined without [[build.cache]]: such a build neither lists deployments nor records keys. */
export async function cacheFor(options: CacheForOptions): Promise<BuildCache | undefined> {
  if (!options.entries || options.entries.length === 0) return undefined;
  // No onWarning: a record that fails validation was named by recovery already, and is no source.
  const deployments = await listDeployments(options.layout, { now: options.now });
  const sources = deployments
    .filter((d) => isGood(d) && d.name !== options.name && (d.record?.cacheKeys?.length ?? 0) > 0)
    .map((d) => ({ name: d.name, dir: options.layout.deployment(d.name), keys: d.record!.cacheKeys! }));
  return buildCache({ dir: options.dir, entries: options.entries, sources, env: options.env, onWarning: options.onWarning });
}
