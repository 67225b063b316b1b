// `mfd ls`: deployments newest first in Go mfd's format (`<sha> (active)`); non-good states are
// shown in the same parenthesised slot. Never loads isomorphic-git.
import { readActive } from '../activate.ts';
import type { Context } from '../context.ts';
import { isGood, listDeployments } from '../record.ts';
import { recover, reportRecovery } from '../recover.ts';

export async function listCommand(ctx: Context): Promise<void> {
  // ls must be truthful: a build killed earlier is shown as what it is after reconciling, not as in progress.
  reportRecovery(ctx, await recover(ctx.layout, ctx.now));
  const [deployments, active] = await Promise.all([listDeployments(ctx.layout, ctx.now()), readActive(ctx.layout)]);
  const human = deployments.map((d) => {
    if (d.name === active) return `${d.sha} (active)`;
    return isGood(d) ? d.sha : `${d.sha} (${d.state})`;
  });
  const json = deployments.map((d) => ({
    sha: d.sha,
    directory: d.name,
    createdAt: new Date(d.createdAt * 1000).toISOString(),
    active: d.name === active,
    state: d.state === 'adopted' ? 'built' : d.state,
    adopted: d.state === 'adopted',
    ref: d.record?.ref ?? null,
  }));
  ctx.reporter.result(human, json);
}
