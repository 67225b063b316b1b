// `mfd deploy [REF]`: deploy REF (default: the configured branch, else the remote's HEAD).
// With --dry-run: print the plan (run/plan.ts) and change nothing. The deploy path is imported when
// the command runs: only dist/mfd-main.js holds it (scripts/build.mjs, FULL_COMMANDS).
import type { Context } from '../context.ts';
import { formatSize } from '../config/size.ts';
import type { Command } from './command.ts';
import type { DeployPlan, LockCheck } from '../run/plan.ts';

export async function deployCommand(ctx: Context, args: string[]): Promise<void> {
  if (ctx.dryRun) {
    const { planDeploy } = await import('../run/plan.ts');
    const plan = await planDeploy(ctx, args[0]);
    ctx.reporter.result(describePlan(plan), { ok: true, command: 'deploy', dryRun: true, ...plan });
    return;
  }
  const { deploy } = await import('../run/deploy.ts');
  const result = await deploy(ctx, args[0]);
  ctx.reporter.result([`${result.sha} (active)`], { ok: true, command: 'deploy', ...result });
}

export function describePlan(plan: DeployPlan): string[] {
  const lines = [
    `dry run: nothing was changed`,
    `resolve   ${plan.ref} → ${plan.sha}`,
    plan.action === 'reuse'
      ? `reuse     ${plan.reuse}: already built from ${plan.sha}, no fetch or build`
      : `build     ${plan.commands.length} command(s), in a new deployment`,
    ...(plan.action === 'build' ? plan.commands.map((c) => `          $ ${c.join(' ')}`) : []),
    `active    ${plan.active}${plan.activeClaimed ? '' : ' (the would-be name: a name is claimed only when the build starts)'}`,
    `previous  ${plan.previous ?? 'none'}`,
    `prune     ${plan.prune.length > 0 ? plan.prune.join(' ') : 'nothing'}`,
    `lock      ${plan.lock.free ? 'free' : 'held: the deploy would wait (--wait) or fail (exit 3)'}`,
    ...plan.lock.locks.filter((l) => l.state !== 'free').map((l) => `          ${describeLock(l)}`),
    `disk      ${formatSize(plan.disk.free)} free, floor ${formatSize(plan.disk.floor)}: ${diskVerdict(plan.disk)}`,
    `steps     ${plan.steps.join(' → ')}`,
  ];
  return lines;
}

function describeLock(lock: LockCheck): string {
  const o = lock.owner;
  const holder = o ? `${o.user}@${o.hostname} pid ${o.pid} "mfd ${o.command}${o.ref ? ` ${o.ref}` : ''}"` : 'an unknown holder';
  return lock.state === 'stale'
    ? `${lock.name}: stale (${lock.reason}), would be taken over: ${lock.file}`
    : `${lock.name}: held by ${holder}: ${lock.file}`;
}

function diskVerdict(disk: DeployPlan['disk']): string {
  if (!disk.checked) return 'not needed for a reuse';
  return disk.ok ? 'ok' : 'too little: the deploy would stop before fetching (exit 9)';
}

export const DEPLOY: Command = {
  name: 'deploy',
  args: '[REF]',
  summary: "resolve, fetch, build, activate and restart REF (default: [repo] branch, else the remote's HEAD)",
  flags: {
    wait: { type: 'boolean', description: 'wait for a held lock instead of failing' },
    'dry-run': { type: 'boolean', description: 'print what the deploy would do, and change nothing' },
  },
  stopsCleanly: true,
  decide: (flags) => ({ wait: !!flags.wait, dryRun: !!flags['dry-run'] }),
  run: deployCommand,
};
