// What a subcommand declares beside its code: its name, the arguments and flags it takes, and
// what those flags ask of the Context. cli.ts parses argv with exactly these, so a new flag is
// one line in its command's file, and a flag given to a command that does not take it is an error.
import type { Context, Decisions } from '../context.ts';

export interface FlagSpec {
  type: 'boolean' | 'string';
  short?: string;
  /** One line for `mfd help`. */
  description: string;
  /** A string flag's value as help and usage name it (`--reason TEXT`); by default the flag's name in capitals. */
  value?: string;
}

export type FlagValues = Record<string, string | boolean | undefined>;

export interface Command {
  name: string;
  aliases?: readonly string[];
  /** The arguments as usage shows them: `[REF]` is one optional argument; each word is one argument. */
  args: string;
  /** One line for `mfd help`. */
  summary: string;
  flags: Record<string, FlagSpec>;
  /** Deploy and rollback change the app root: a first SIGINT/SIGTERM lets them stop cleanly. */
  stopsCleanly?: boolean;
  /** What the first such signal's line says will happen; by default the step ends, a second signal kills its commands. */
  stopping?: string;
  /** What the flags ask for; the Context's factory combines it with the config (e.g. [lock] wait). */
  decide?: (flags: FlagValues) => Partial<Decisions>;
  run(ctx: Context, args: string[], flags: FlagValues): Promise<void>;
}

/** `mfd deploy [REF] [--wait] [--dry-run]`: the hint a usage error shows. */
export function usageOf(command: Command, name = command.name): string {
  const flags = Object.entries(command.flags).map(([flag, spec]) => `[--${flag}${spec.type === 'string' ? ` ${spec.value ?? flag.toUpperCase()}` : ''}]`);
  return ['mfd', name, command.args, ...flags].filter(Boolean).join(' ');
}
