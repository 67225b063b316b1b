// Entry point: argv → command. Builds the Context once, and is the only place that prints errors
// or decides the exit code. Commands are imported lazily so `mfd ls` never loads isomorphic-git.
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from './config/config.ts';
import type { Context } from './context.ts';
import { EXIT, MfdError, rooted, toFsError, UsageError, type Interruption, type InterruptSignal } from './errors/index.ts';
import { layoutOf } from './state/layout.ts';
import { chooseColor, chooseMode, Reporter } from './sys/output.ts';

declare const MFD_VERSION: string | undefined;
const VERSION = typeof MFD_VERSION === 'string' ? MFD_VERSION : '0.0.0-dev';

const USAGE = `usage: mfd [options] <command> [<args>]

commands:
  deploy [REF]        resolve, fetch, build, activate and restart REF (default: the remote's HEAD)
  list, ls            list deployments, newest first; the active one is marked (active)
  rollback [SHA]      go back to the previous good deployment, or to the named one
  resolve [REF]       print the full sha REF resolves to, without deploying
  status              the active deployment, since when, its state, the last run, the lock
  history             every deploy and rollback, newest first, with outcome and step times
  logs [RUN]          the full output of a run (default: the last one)
  lock list           show every lock (this app's, its cache's, the host's, shared resources')
  unlock [NAME]       remove a lock: app (default), cache, host, or a resource name
  help                show this help

options:
  -C DIR              use DIR/mfd.toml (default: ./mfd.toml); DIR is the app root
  --config FILE       use FILE as the config; its directory is the app root
  --json              machine-readable result on stdout (progress stays on stderr)
  --ci                plain output lines, no spinner (automatic when not a TTY)
  --verbose           on errors, also print the cause chain and stack
  --wait              deploy, rollback: wait for a held lock instead of failing
  --force             unlock: remove a lock even though its holder is alive
  --dry-run           deploy: print what it would do (build or reuse, prune, lock, disk), change nothing
  -h, --help          show this help
  --version           print mfd's version

REF: a branch, a tag, HEAD, a full or short (4+ hex) sha, or REF~N / REF^.
Exit codes: 0 ok, 1 internal, 2 usage or config, 3 lock held, 4 git, 5 build,
6 activate or restart, 7 unhealthy (rolled back), 8 rollback failed or server needs
attention, 9 disk full or nearly full, 10 file system (permissions, a file in mfd's place),
130 / 143 interrupted by SIGINT / SIGTERM.`;

type CommandFn = (ctx: Context, args: string[]) => Promise<void>;

const COMMANDS: Record<string, () => Promise<CommandFn>> = {
  deploy: async () => (await import('./commands/deploy.ts')).deployCommand,
  list: async () => (await import('./commands/list.ts')).listCommand,
  ls: async () => (await import('./commands/list.ts')).listCommand,
  rollback: async () => (await import('./commands/rollback.ts')).rollbackCommand,
  resolve: async () => (await import('./commands/resolve.ts')).resolveCommand,
  lock: async () => (await import('./commands/lock.ts')).lockCommand,
  unlock: async () => (await import('./commands/lock.ts')).unlockCommand,
  history: async () => (await import('./commands/history.ts')).historyCommand,
  logs: async () => (await import('./commands/history.ts')).logsCommand,
  status: async () => (await import('./commands/status.ts')).statusCommand,
};

/** The arguments each command takes (as in USAGE): `[X]` is one optional argument. */
const ARGS: Record<string, string> = {
  deploy: '[REF]', list: '', ls: '', rollback: '[SHA]', resolve: '[REF]', lock: 'list', unlock: '[NAME]',
  history: '', logs: '[RUN]', status: '',
};

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let flags: { json: boolean; ci: boolean; verbose: boolean } = {
    json: argv.includes('--json'),
    ci: argv.includes('--ci'),
    verbose: argv.includes('--verbose'),
  };
  let reporter = makeReporter(flags, env);
  const controller = new AbortController();
  const hurry = new AbortController();
  // The first SIGINT/SIGTERM asks the run to stop cleanly (it aborts ctx.signal with the
  // Interruption, and the command ends with an InterruptedError: exit 130 / 143); a second one
  // only makes it kill its child processes at once. Persistent listeners, not `once`: with none
  // left, signal-exit (proper-lockfile's) re-raises the signal and mfd would die mid-step.
  const onSignal = (signal: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      reporter.warn(`${signal}: stopping cleanly after the current step (again: kill running commands now)`);
      controller.abort({ signal: signal as InterruptSignal, hurry: hurry.signal } satisfies Interruption);
    } else if (!hurry.signal.aborted) {
      reporter.warn(`${signal} again: killing running commands now; the clean-up still runs`);
      hurry.abort();
    }
  };
  let root: string | undefined;
  try {
    const { values, positionals } = parseCli(argv);
    flags = { json: !!values.json, ci: !!values.ci || env.CI === 'true', verbose: !!values.verbose };
    reporter = makeReporter(flags, env);
    const [name, ...args] = positionals;
    // Only the commands that change the app root clean up; the others end at once, as by default.
    if (name === 'deploy' || name === 'rollback') {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    if (values.version) {
      reporter.result([`mfd ${VERSION}`], { version: VERSION });
      return EXIT.ok;
    }
    if (values.help || name === undefined || name === 'help') {
      reporter.result([USAGE], { usage: USAGE });
      return EXIT.ok;
    }
    const load = COMMANDS[name];
    if (!load) throw new UsageError(`unknown command "${name}"`);
    const synopsis = ARGS[name] ?? '';
    // Each word of the synopsis is one argument it may take: a stray one is a typo, never ignored.
    if (args.length > (synopsis ? synopsis.split(' ').length : 0)) {
      throw new UsageError(`too many arguments for "mfd ${name}": ${JSON.stringify(args.at(-1))}`, `usage: mfd ${`${name} ${synopsis}`.trim()}`);
    }

    // Ignored by another command, it would let "mfd rollback --dry-run" really roll back.
    if (values['dry-run'] && name !== 'deploy') throw new UsageError(`--dry-run is an option of "mfd deploy" only, not of "mfd ${name}"`);
    const configFile = values.config
      ? resolve(values.config)
      : resolve(values.C ?? process.cwd(), 'mfd.toml');
    const config = await loadConfig(configFile, env);
    for (const w of config.warnings) reporter.warn(w);
    root = dirname(configFile);
    const command = await load();
    await command(
      {
        root,
        layout: layoutOf(root),
        config,
        reporter,
        now: () => Date.now(),
        signal: controller.signal,
        options: { wait: !!values.wait, force: !!values.force, dryRun: !!values['dry-run'] },
      },
      args,
    );
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
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function parseCli(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        C: { type: 'string', short: 'C' },
        config: { type: 'string' },
        json: { type: 'boolean' },
        ci: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
        wait: { type: 'boolean' },
        force: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!);
  }
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
  },
  (error: unknown) => {
    process.stderr.write(`internal error: ${String(error)}\n`);
    process.exitCode = EXIT.internal;
  },
);
