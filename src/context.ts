// What every command works with, built once in cli.ts: the root, its layout, the loaded config,
// the Reporter, the clock and the abort signal. No module reads process.cwd() or global state.
import type { Config } from './config/config.ts';
import type { Layout } from './state/layout.ts';
import type { Progress } from './sys/output.ts';

export interface Context {
  root: string;
  layout: Layout;
  config: Config;
  /** The terminal Reporter; inside a deploy or rollback, its Run (run/run.ts). */
  reporter: Progress;
  /** Milliseconds since the epoch. */
  now: () => number;
  signal: AbortSignal;
  /** Command flags that change behaviour: --wait (deploy, rollback), --force (unlock), --dry-run (deploy). */
  options: { wait: boolean; force: boolean; dryRun?: boolean };
}
