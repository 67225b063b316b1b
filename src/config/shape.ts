// The zod/mini shapes the mfd.toml sections share, and what the assembled schema says about itself:
// its keys, the one list of what mfd.toml may hold ("did you mean" is drawn from it too).
import * as z from 'zod/mini';

export const text = z.string().check(z.minLength(1));
export const opt = z.optional;
// Shared, as a schema can sit in any number of shapes: zod takes some 60 k instructions to make
// each one, at every start of every command (a key's own schema made anew was 40 of them).
export const optText = opt(text);
export const optString = opt(z.string());
/** A section or key that must not be there: what an absent section's schema is (config.ts schemaFor). */
export const absent = opt(z.undefined());
export const whole = (min: number, max?: number) => z.int().check(z.gte(min), ...(max === undefined ? [] : [z.lte(max)]));

/** Reports one problem at a key path; parseConfig collects them all before it throws. */
export type Add = (path: (string | number)[], message: string) => void;

/**
 * The keys each table of `schema` allows, by its key path ('' for the top level; `build.cache[]`
 * for the tables of an array such as [[build.cache]]): read from the schema itself, so a key added
 * to a section is known everywhere at once.
 */
export function keysOf(schema: z.ZodMiniType, path = '', out: Record<string, string[]> = {}): Record<string, string[]> {
  const def = schema._zod.def as { type: string; innerType?: z.ZodMiniType; element?: z.ZodMiniType; shape?: Record<string, z.ZodMiniType> };
  if (def.type === 'optional' && def.innerType) return keysOf(def.innerType, path, out);
  if (def.type === 'array' && def.element) return keysOf(def.element, `${path}[]`, out);
  if (def.type !== 'object' || !def.shape) return out;
  out[path] = Object.keys(def.shape);
  for (const [key, value] of Object.entries(def.shape)) keysOf(value, path ? `${path}.${key}` : key, out);
  return out;
}

/** The key of allowedKeys() a table at `path` reads from: `['build', 'cache', 0]` → `build.cache[]`. */
export function tablePath(path: readonly (string | number)[]): string {
  return path.reduce<string>((at, p) => (typeof p === 'number' ? `${at}[]` : at ? `${at}.${p}` : p), '');
}
