// `mfd ls`: deployments newest first in Go mfd's format (`<sha> (active)`); non-good states are
// shown in the same parenthesised slot. Read-only: it never repairs, so it never needs the lock.
// Never loads isomorphic-git.
import { readActive } from '../steps/activate.ts';
import type { Context } from '../context.ts';
import type { Command } from './command.ts';
import { isGood, listDeployments } from '../state/record.ts';
import { shownState } from '../run/recover.ts';

export async function listCommand(ctx: Context): Promise<void> {
  const warn = (m: string, h?: string) => ctx.reporter.warn(m, h);
  const [deployments, active] = await Promise.all([listDeployments(ctx.layout, { now: ctx.now(), onWarning: warn }), readActive(ctx.layout, warn)]);
  const states = await Promise.all(deployments.map((d) => shownState(d, ctx.identity.pid)));
  if (states.includes('interrupted')) {
    ctx.reporter.warn('a build was interrupted (its deploy is gone)', 'the next "mfd deploy" or "mfd rollback" stops what is left of it and removes it');
  }
  if (active && !deployments.some((d) => d.name === active)) {
    ctx.reporter.warn(`active points at ${active}, which does not exist`, 'deploy a ref with "mfd deploy <ref>", or roll back with "mfd rollback <sha>"');
  }
  const human = deployments.map((d, i) => {
    if (d.name === active) return `${d.sha} (active)`;
    return isGood(d) ? d.sha : `${d.sha} (${states[i]})`;
  });
  const json = deployments.map((d, i) => ({
    sha: d.sha,
    directory: d.name,
    createdAt: new Date(d.createdAt * 1000).toISOString(),
    active: d.name === active,
    state: d.state === 'adopted' ? 'built' : states[i],
    adopted: d.state === 'adopted',
    ref: d.record?.ref ?? null,
  }));
  ctx.reporter.result(human, json);
}

export const LIST: Command = {
  name: 'list',
  aliases: ['ls'],
  args: '',
  summary: 'list deployments, newest first; the active one is marked (active)',
  flags: {},
  run: listCommand,
};
