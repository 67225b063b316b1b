// `mfd history` (every deploy and rollback, newest first, with who or what started it) and `mfd logs [RUN]` (one run's full
// output; default the last run). Neither loads isomorphic-git.
import type { Context } from '../context.ts';
import type { Command } from './command.ts';
import { DeploymentNotFoundError } from '../errors/index.ts';
import { readHistory, type HistoryEntry } from '../state/history.ts';
import { readRunLogText } from '../state/runlog.ts';

function describeRun(e: HistoryEntry): string {
  const seconds = ((Date.parse(e.end) - Date.parse(e.start)) / 1000).toFixed(1);
  const what = [e.command, e.ref ?? '', e.sha ? e.sha.slice(0, 12) : ''].filter(Boolean).join(' ');
  // Who and what started it: a person typing (manual), the deploy loop's poll, or a webhook delivery.
  const by = `by ${e.user}, ${e.trigger ?? 'manual'}`;
  // [[build.cache]]: what was copied instead of built, and from where (the argv is in --json).
  const reused = e.reused?.length ? `  reused ${e.reused.map((r) => `${r.outputs.join(', ')} from ${r.from}`).join('; ')}` : '';
  return `${e.start}  ${e.runId}  ${what}  ${e.outcome} ${seconds}s${e.error ? `  ${e.error.code}: ${e.error.message}` : ''}${reused}  (${by})`;
}

export async function historyCommand(ctx: Context): Promise<void> {
  const entries = await readHistory(ctx.layout, (m, h) => ctx.reporter.warn(m, h));
  ctx.reporter.result(entries.length ? entries.map(describeRun) : ['no runs yet'], entries);
}

export async function logsCommand(ctx: Context, args: string[]): Promise<void> {
  const entries = await readHistory(ctx.layout, (m, h) => ctx.reporter.warn(m, h));
  const wanted = args[0];
  // An exact id first: a second run of one process in one second is "<id>-2", which starts with "<id>".
  const entry = wanted === undefined ? entries[0] : entries.find((e) => e.runId === wanted) ?? entries.find((e) => e.runId.startsWith(wanted));
  if (!entry) throw new DeploymentNotFoundError(wanted ?? 'the last run', 'no run log found', '"mfd history" lists the run ids; give one (or its start), or none for the last run');
  // Only a missing log was pruned; a link, a directory or a permission problem says so itself.
  const log = await readRunLogText(ctx.layout, entry.runId);
  if (log === undefined) throw new DeploymentNotFoundError(entry.runId, 'the log of this run was pruned with its deployment', '"mfd history" still has its outcome and error');
  const { text } = log;
  // As the terminal showed the run: the build's own output untouched (mfd's lines are inert already).
  ctx.reporter.result([text.replace(/\n$/, '')], { runId: entry.runId, log: text }, { verbatim: true });
}

export const HISTORY: Command = {
  name: 'history',
  args: '',
  summary: 'every deploy and rollback, newest first, with outcome and step times',
  flags: {},
  run: historyCommand,
};

export const LOGS: Command = {
  name: 'logs',
  args: '[RUN]',
  summary: 'the full output of a run (default: the last one)',
  flags: {},
  run: logsCommand,
};
