// The [build] section: the build commands, each an argv array (never a shell line), and their timeout.
import * as z from 'zod/mini';
import { opt } from './shape.ts';

export interface BuildConfig {
  commands: string[][];
  timeoutMs?: number;
}

export const BuildSchema = z.strictObject({
  commands: z.array(z.array(z.string()).check(z.minLength(1))),
  timeout: opt(z.string()),
});

export function buildOf(build: z.infer<typeof BuildSchema>, timeoutMs: number | undefined): BuildConfig {
  return { commands: build.commands, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}
