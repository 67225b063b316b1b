// Entry point: argv → command. Parses the flags every command shares plus the ones the named
// command declares (commands/*.ts), builds its Context, and is the only place that prints errors
// or decides the exit code. Commands are imported lazily so `mfd ls` never loads isomorphic-git.
import { resolve } from 'node:path';
import type { Command, FlagValues } from './commands/command.ts';
import { usageOf } from './commands/command.ts';
import { parseArgv } from './commands/argv.ts';
import { createContext } from './context.ts';
import { EXIT, MfdError, rooted, toFsError, UsageError, type Interruption, type InterruptSignal } from './errors/index.ts';
import { chooseColor, chooseMode, Reporter } from './sys/output.ts';
import { outputStreamed } from './sys/fdwrite.ts';

declare const MFD_VERSION: string | undefined;
const VERSION = typeof MFD_VERSION === 'string' ? MFD_VERSION : '0.0.0-dev';

const STOP_SIGNALS: readonly InterruptSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Whether the process may end as soon as main returns (see the end of this file). */
let endsWithMain = true;

/** The flags every command takes. A command's own flags live in its file. */
const COMMON = {
  C: { type: 'string', short: 'C', description: 'use DIR/mfd.toml (default: ./mfd.toml); DIR is the app root', value: 'DIR' },
  config: { type: 'string', description: 'use FILE as the config; its directory is the app root', value: 'FILE' },
  json: { type: 'boolean', description: 'machine-readable result on stdout (progress stays on stderr)' },
  ci: { type: 'boolean', description: 'plain output lines, no spinner (automatic when not a TTY)' },
  verbose: { type: 'boolean', description: 'on errors, also print the cause chain and stack' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  version: { type: 'boolean', description: "print mfd's version" },
} as const;

/** Every command, by the name typed; loaded only when named (or for `mfd help`). */
const COMMANDS: Record<string, () => Promise<Command>> = {
  deploy: async () => (await import('./commands/deploy.ts')).DEPLOY,
  list: async () => (await import('./commands/list.ts')).LIST,
  ls: async () => (await import('./commands/list.ts')).LIST,
  rollback: async () => (await import('./commands/rollback.ts')).ROLLBACK,
  resolve: async () => (await import('./commands/resolve.ts')).RESOLVE,
  status: async () => (await import('./commands/status.ts')).STATUS,
  history: async () => (await import('./commands/history.ts')).HISTORY,
  logs: async () => (await import('./commands/history.ts')).LOGS,
  lock: async () => (await import('./commands/lock.ts')).LOCK,
  unlock: async () => (await import('./commands/lock.ts')).UNLOCK,
  serve: async () => (await import('./commands/serve.ts')).SERVE,
  watch: async () => (await import('./commands/watch.ts')).WATCH,
  pause: async () => (await import('./commands/pause.ts')).PAUSE,
  resume: async () => (await import('./commands/resume.ts')).RESUME,
};

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let flags: { json: boolean; ci: boolean; verbose: boolean } = {
    json: argv.includes('--json'),
    ci: argv.includes('--ci'),
    verbose: argv.includes('--verbose'),
  };
  let reporter = makeReporter(flags, env);
  // Made on first use: the first AbortController costs a command's start-up 1 M instructions
  // (Node compiles EventTarget and AbortSignal), and `mfd ls` never looks at its signal.
  let controller: AbortController | undefined;
  let hurry: AbortController | undefined;
  const stop = () => (controller ??= new AbortController());
  const hurrying = () => (hurry ??= new AbortController());
  // The first SIGINT/SIGTERM/SIGHUP asks the run to stop cleanly (it aborts ctx.signal with the
  // Interruption, and the command ends with an InterruptedError: exit 130 / 143 / 129); a second
  // one only makes it kill its child processes at once. Persistent listeners, not `once`: with none
  // left, signal-exit (proper-lockfile's) re-raises the signal and mfd would die mid-step.
  // SIGHUP is a hang-up (the ssh connection dropped): writes to the terminal fail from then on,
  // which fdwrite.ts absorbs, so the clean-up runs to its end with no one watching. mfd has no
  // reload: watch and serve take SIGHUP as a stop too (README, What Ctrl-C and SIGTERM do).
  // What the first signal's line says; the command may say it its own way (resolve runs no commands).
  let stopping = 'stopping cleanly after the current step (again: kill running commands now)';
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stop().signal.aborted) {
      reporter.warn(`${signal}: ${stopping}`);
      stop().abort({ signal: signal as InterruptSignal, hurry: hurrying().signal } satisfies Interruption);
    } else if (!hurrying().signal.aborted) {
      reporter.warn(`${signal} again: killing running commands now; the clean-up still runs`);
      hurrying().abort();
    }
  };
  let root: string | undefined;
  try {
    // First the shared flags, to find the command's name; then strictly, with its own flags too.
    const loose = parseArgv(argv, COMMON, { strict: false });
    const [name] = loose.positionals;
    const early = loose.values;
    flags = { json: !!early.json, ci: !!early.ci || env.CI === 'true', verbose: !!early.verbose };
    reporter = makeReporter(flags, env);
    const load = name === undefined ? undefined : COMMANDS[name];
    // Without a command only the shared flags exist: `mfd --bogus` is a typo, not a request for help.
    if (!load && (early.version || early.help || name === undefined || name === 'help')) parseStrict(argv, COMMON, 'mfd [options] <command> [<args>]');
    if (early.version) {
      reporter.result([`mfd ${VERSION}`], { version: VERSION });
      return EXIT.ok;
    }
    if (early.help || name === undefined || name === 'help') {
      const usage = await usageText();
      reporter.result([usage], { usage });
      return EXIT.ok;
    }
    if (!load) throw new UsageError(`unknown command "${name}"`);
    const command = await load();
    stopping = command.stopping ?? stopping;
    // Only the commands that change the app root clean up; the others end at once, as by default.
    if (command.stopsCleanly) {
      endsWithMain = false;
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
    }
    for (const option of loose.options) {
      if (!(option.name in COMMON) && !(option.name in command.flags)) throw await flagNotTaken(command, name, option.raw);
    }
    const { values, positionals } = parseStrict(argv, { ...COMMON, ...command.flags }, usageOf(command, name));
    const args = positionals.slice(1);
    // Each word of the synopsis is one argument it may take: a stray one is a typo, never ignored.
    if (args.length > (command.args ? command.args.split(' ').length : 0)) {
      throw new UsageError(`too many arguments for "mfd ${name}": ${JSON.stringify(args.at(-1))}`, `usage: mfd ${`${name} ${command.args}`.trim()}`);
    }

    const configFile = typeof values.config === 'string'
      ? resolve(values.config)
      : resolve(typeof values.C === 'string' ? values.C : process.cwd(), 'mfd.toml');
    root = resolve(configFile, '..');
    const ctx = await createContext({
      configFile,
      env,
      reporter,
      signal: () => stop().signal,
      requested: command.decide?.(values) ?? {},
    });
    await command.run(ctx, args, values);
    return EXIT.ok;
  } catch (thrown) {
    // The safety net: a file-system failure the code did not name itself is still the world's
    // fault (a full disk, a root-owned .mfd), never "internal error".
    const fsError = toFsError(thrown, { root });
    const error = fsError ? rooted(fsError, root) : thrown;
    if (error instanceof MfdError) {
      reporter.failure({
        code: error.code,
        message: error.message,
        hint: error.hint,
        ...(flags.verbose ? { detail: causeChain(error) } : {}),
      });
      return error.exitCode;
    }
    reporter.internalFailure(error);
    return EXIT.internal;
  } finally {
    if (!endsWithMain) for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}

type Flags = Record<string, { type: 'boolean' | 'string'; short?: string; description: string; value?: string }>;

function parseStrict(argv: string[], flags: Flags, usage: string): { values: FlagValues; positionals: string[] } {
  return parseArgv(argv, flags, { strict: true, usage });
}

/** `mfd ls --wait`: a flag of another command (or of none) is a mistake, never silently ignored. */
async function flagNotTaken(command: Command, name: string, raw: string): Promise<UsageError> {
  const flag = raw.replace(/^-+/, '').split('=')[0]!;
  const takers = (await allCommands()).filter((c) => flag in c.flags).map((c) => c.name);
  const others = takers.length ? ` (${takers.join(' and ')} ${takers.length > 1 ? 'take' : 'takes'} it)` : '';
  return new UsageError(`"mfd ${name}" does not take ${raw.split('=')[0]}${others}`, `usage: ${usageOf(command, name)}`);
}

async function allCommands(): Promise<Command[]> {
  return [...new Set(await Promise.all(Object.values(COMMANDS).map((load) => load())))];
}

async function usageText(): Promise<string> {
  const commands = await allCommands();
  const row = (left: string, right: string) => `  ${left.padEnd(20)}${right}`;
  const named = (c: Command) => [c.name, ...(c.aliases ?? [])].join(', ');
  const flagName = (name: string, f: Flags[string]) =>
    `${f.short ? `-${f.short}${name === f.short ? '' : `, --${name}`}` : `--${name}`}${f.value ? ` ${f.value}` : ''}`;
  return [
    'usage: mfd [options] <command> [<args>]',
    '',
    'commands:',
    ...commands.map((c) => row(`${named(c)} ${c.args}`.trim(), c.summary)),
    row('help', 'show this help'),
    '',
    'options:',
    ...Object.entries(COMMON as Flags).map(([name, f]) => row(flagName(name, f), f.description)),
    ...commands.flatMap((c) => Object.entries(c.flags).map(([name, f]) => row(`${c.name} ${flagName(name, { ...f, value: f.type === 'string' ? (f.value ?? name.toUpperCase()) : undefined })}`, f.description))),
    '',
    'REF: a branch, a tag, HEAD, a full or short (4+ hex) sha, or REF~N / REF^.',
    'Exit codes: 0 ok, 1 internal, 2 usage or config, 3 lock held, 4 git, 5 build,',
    '6 activate or restart, 7 unhealthy (rolled back), 8 rollback failed or server needs',
    'attention, 9 disk full or nearly full, 10 file system (permissions, a file in mfd\'s place),',
    '130 / 143 / 129 interrupted by SIGINT / SIGTERM / SIGHUP.',
  ].join('\n');
}

function makeReporter(flags: { json: boolean; ci: boolean; verbose: boolean }, env: NodeJS.ProcessEnv): Reporter {
  // Only asked when something is drawn on stderr: creating process.stderr costs start-up time.
  const isTTY = () => !!process.stderr.isTTY;
  return new Reporter({
    mode: flags.json ? 'json' : () => chooseMode({ json: false, ci: flags.ci, isTTY: isTTY() }) as 'tty' | 'plain',
    color: () => chooseColor(env, isTTY()),
    verbose: flags.verbose,
  });
}

/** --verbose: every cause down the chain, with third-party codes (iso-git `code`, execa's message). */
function causeChain(error: Error): string {
  const lines: string[] = [];
  let current: unknown = error;
  while (current instanceof Error) {
    const code = (current as { code?: unknown }).code;
    lines.push(`  ${current.name}${code ? ` [${String(code)}]` : ''}: ${current.stack ?? current.message}`);
    current = current.cause;
  }
  return lines.join('\n');
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
    // A command that does not stop cleanly (ls, status, history...) has done all it does once main
    // returns; with all its output written (no stream took over, fdwrite.ts), it ends here and not
    // after a turn of the event loop, in which V8 would first collect the young generation's
    // garbage: 3 M instructions of `mfd ls`. Deploys, rollbacks and the loops end as by default.
    if (endsWithMain && !outputStreamed()) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`internal error: ${String(error)}\n`);
    process.exitCode = EXIT.internal;
  },
);
