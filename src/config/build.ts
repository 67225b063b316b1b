// The [build] section: the build commands, each an argv array (never a shell line), their timeout,
// and the [[build.cache]] entries that let a command's outputs be reused (build-cache.ts).
import * as z from 'zod/mini';
import { BuildCacheSchema, buildCacheOf, type BuildCacheEntry } from './build-cache.ts';
import { absent, opt, optString } from './shape.ts';
import { lazily } from '../sys/lazy.ts';

export type { BuildCacheEntry };

export interface BuildConfig {
  commands: string[][];
  timeoutMs?: number;
  /** Absent when mfd.toml has no [[build.cache]]: such a config builds exactly as before. */
  cache?: BuildCacheEntry[];
}

const buildShape = <C extends z.ZodMiniType>(cache: C) => z.strictObject({
  commands: z.array(z.array(z.string()).check(z.minLength(1))),
  timeout: optString,
  cache,
});

export const BuildSchema = lazily(() => buildShape(opt(BuildCacheSchema())));
/** The same keys for a [build] without [[build.cache]], whose schemas are then never made (config.ts schemaFor). */
export const BuildSchemaWithoutCache = lazily(() => buildShape(absent));

export function buildOf(build: z.infer<ReturnType<typeof BuildSchema>>, timeoutMs: number | undefined): BuildConfig {
  return {
    commands: build.commands,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(build.cache && build.cache.length > 0 ? { cache: buildCacheOf(build.cache) } : {}),
  };
}
