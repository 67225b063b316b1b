// [[build.cache]]: per build command, the files its work depends on and what it produces, so a
// deploy can reuse the outputs of a kept deployment instead of running it. Paths stay inside the deployment.
import * as z from 'zod/mini';
import { describeValue, valueAt } from './issue.ts';
import { opt, text, whole, type Add } from './shape.ts';
import { lazily } from '../sys/lazy.ts';

export interface BuildCacheEntry {
  /** Index into build.commands. */
  command: number;
  inputs: string[];
  outputs: string[];
  /** Environment variables whose values are part of the key. */
  env: string[];
}

export const BuildCacheSchema = lazily(() => z.array(z.strictObject({
  command: whole(0),
  inputs: z.array(text),
  outputs: z.array(text).check(z.minLength(1)),
  env: opt(z.array(text)),
})));

/** Why `path` is not a plain relative path inside the deployment, or undefined when it is. */
export function badCachePath(path: string): string | undefined {
  // Every segment a real name: no absolute path, no `..` out of the deployment, no `.`, `//` or
  // trailing `/` (two spellings of one path would be two keys), no backslash (a separator elsewhere).
  if (path.startsWith('/')) return 'an absolute path';
  if (path.includes('\\')) return 'a backslash';
  if (path.split('/').some((s) => s === '..')) return 'a ".." segment';
  if (path.split('/').some((s) => s === '' || s === '.')) return 'an empty or "." segment';
  return undefined;
}

/** Cross-field rules on the raw values: each path relative and inside, each command index in range, one entry per command. */
export function checkBuildCache(data: unknown, add: Add): void {
  const entries = valueAt(data, ['build', 'cache']);
  if (!Array.isArray(entries)) return;
  const commands = valueAt(data, ['build', 'commands']);
  const count = Array.isArray(commands) ? commands.length : undefined;
  const seen = new Set<number>();
  entries.forEach((entry: unknown, i) => {
    if (!entry || typeof entry !== 'object') return;
    const { command } = entry as { command?: unknown };
    if (typeof command === 'number' && Number.isInteger(command) && command >= 0) {
      if (count !== undefined && command >= count) {
        add(['build', 'cache', i, 'command'], `expected an index into build.commands${rangeOf(count)}, got ${command}`);
      } else if (seen.has(command)) {
        add(['build', 'cache', i, 'command'], `build.commands[${command}] already has a [[build.cache]] entry`);
      }
      seen.add(command);
    }
    for (const key of ['inputs', 'outputs'] as const) {
      const paths = (entry as Record<string, unknown>)[key];
      if (!Array.isArray(paths)) continue;
      paths.forEach((p: unknown, j) => {
        if (typeof p !== 'string' || p === '') return;
        const why = badCachePath(p);
        if (why) add(['build', 'cache', i, key, j], `expected a path relative to the deployment directory, got ${describeValue(p)} (${why})`);
      });
    }
  });
}

/** The indexes build.commands has, in words: an empty list has none, so no "(0 to -1)". */
function rangeOf(count: number): string {
  if (count === 0) return ', which is empty: there is no command to cache';
  return count === 1 ? ' (0, its only command)' : ` (0 to ${count - 1})`;
}

export function buildCacheOf(entries: z.infer<ReturnType<typeof BuildCacheSchema>>): BuildCacheEntry[] {
  return entries.map((e) => ({ command: e.command, inputs: e.inputs, outputs: e.outputs, env: e.env ?? [] }));
}
