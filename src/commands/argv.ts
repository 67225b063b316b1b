// The command line, word by word, against the flags a command declares (commands/command.ts).
// mfd's own, not util.parseArgs: Node compiles that one afresh in every process (3 M instructions
// of `mfd ls`, 2% of its start-up), while this file comes compiled in mfd's code cache. It takes
// what parseArgs takes in the forms mfd's usage shows: `--name`, `--name=VALUE`, `--name VALUE`,
// `-h`, `-C DIR`, `-CDIR`, `-hC DIR`, `--` (the rest are arguments), and a lone `-` (an argument).
import { UsageError } from '../errors/index.ts';
import type { FlagValues } from './command.ts';

export interface FlagType {
  type: 'boolean' | 'string';
  short?: string;
}

/** One option as typed: its declared name when known, else the name as written. */
export interface OptionWord {
  name: string;
  /** As written, `--wait` or `-C`. */
  raw: string;
}

export interface ParsedArgv {
  values: FlagValues;
  positionals: string[];
  /** Every option in the order given, known or not. */
  options: OptionWord[];
}

/**
 * Parses `argv` against `flags`. Strict: an unknown option, a value given to a boolean, or a
 * string option without its value is a UsageError whose hint is `usage`. Loose (strict false):
 * nothing fails; an unknown option counts as a boolean and takes no value, so the command's name
 * is found before its own flags are known; as in parseArgs, a boolean given `=VALUE` holds VALUE
 * and a string option without its value holds true.
 */
export function parseArgv(argv: readonly string[], flags: Readonly<Record<string, FlagType>>, options: { strict: boolean; usage?: string }): ParsedArgv {
  const fail = (message: string): never => {
    throw new UsageError(message, options.usage === undefined ? undefined : `usage: ${options.usage}`);
  };
  const byShort = new Map<string, string>();
  for (const [name, flag] of Object.entries(flags)) if (flag.short) byShort.set(flag.short, name);
  const known = (name: string) => Object.hasOwn(flags, name);
  // No prototype: `--__proto__` or `--constructor` is a name like any other.
  const values: FlagValues = Object.create(null) as FlagValues;
  const positionals: string[] = [];
  const words: OptionWord[] = [];
  /** The value a string option takes from the next word; `shown` is how the option was written. */
  const nextValue = (i: number, shown: string, name: string): string => {
    const value = argv[i + 1];
    if (value === undefined) fail(`option ${shown} needs a value`);
    // `--config --json` is a forgotten value, as parseArgs says too; `--config=-x` gives one.
    if (value!.startsWith('-') && value !== '-') fail(`option ${shown} needs a value, got the option ${value}: to give a value starting with "-", use --${name}=${value}`);
    return value!;
  };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
      const raw = `--${name}`;
      words.push({ name, raw });
      if (!known(name)) {
        if (options.strict) fail(`unknown option ${raw}: to give an argument starting with "-", put it after --`);
        values[name] = eq < 0 ? true : word.slice(eq + 1);
        continue;
      }
      if (flags[name]!.type === 'boolean') {
        if (eq >= 0 && options.strict) fail(`option ${raw} takes no value`);
        // Loose, `--json=1` is kept as parseArgs keeps it: cli.ts answers its usage error as JSON.
        values[name] = eq < 0 ? true : word.slice(eq + 1);
      } else if (eq >= 0) values[name] = word.slice(eq + 1);
      else if (options.strict) values[name] = nextValue(i++, raw, name);
      else values[name] = argv[i + 1] === undefined ? true : argv[++i]!;
      continue;
    }
    if (word.startsWith('-') && word !== '-') {
      // A group of short options: each a boolean, but for a string one, which takes the rest of
      // the word (`-CDIR`) or else the next word (`-hC DIR`).
      for (let c = 1; c < word.length; c++) {
        const letter = word[c]!;
        const name = byShort.get(letter);
        const raw = `-${letter}`;
        if (name === undefined) {
          words.push({ name: letter, raw });
          if (options.strict) fail(`unknown option ${raw}: to give an argument starting with "-", put it after --`);
          values[letter] = true;
          continue;
        }
        words.push({ name, raw });
        if (flags[name]!.type === 'boolean') {
          values[name] = true;
          continue;
        }
        const rest = word.slice(c + 1);
        if (rest) values[name] = rest;
        else if (options.strict) values[name] = nextValue(i++, raw, name);
        else values[name] = argv[i + 1] === undefined ? true : argv[++i]!;
        break;
      }
      continue;
    }
    positionals.push(word);
  }
  return { values, positionals, options: words };
}
