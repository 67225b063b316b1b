// `mfd lock list` and `mfd unlock [NAME]`: the lock manager. Lists this app's lock and every
// host-wide lock; clears one, refusing a holder that is alive on this host unless --force.
import type { Context } from '../context.ts';
import type { Command } from './command.ts';
import { formatAge, formatClock, UsageError, UnlockRefusedError } from '../errors/index.ts';
import { managedLocks, namedLock } from '../lock/manage.ts';

export async function lockCommand(ctx: Context, args: string[]): Promise<void> {
  if (args[0] !== undefined && args[0] !== 'list') throw new UsageError(`unknown lock subcommand "${args[0]}"`, 'use "mfd lock list" or "mfd unlock [NAME]"');
  const backend = ctx.lockBackend;
  const opts = { staleMs: ctx.config.lock.staleMs, now: ctx.now, host: ctx.identity.host };
  const rows = [];
  for (const spec of await managedLocks(ctx.layout, ctx.config.lock, backend)) {
    const state = await backend.inspect(spec, opts);
    if (state) rows.push({ spec, state });
  }
  const human = rows.length === 0
    ? ['no locks held']
    : rows.map(({ spec, state }) => {
        const o = state.owner;
        const holder = o ? `${o.user}@${o.hostname} pid ${o.pid} "mfd ${o.command}${o.ref ? ` ${o.ref}` : ''}"` : 'unknown holder';
        const status = state.stale ? `stale: ${state.stale}` : !o ? 'held, holder not recorded (a full disk)' : state.alive === undefined ? 'held (other host)' : 'held, alive';
        const since = o ? `since ${formatClock(o.timestamp)} (${formatAge(ctx.now() - o.timestamp)} ago)` : '';
        return `${spec.name.padEnd(12)} ${holder} ${since} [${status}] ${spec.file}`;
      });
  const json = rows.map(({ spec, state }) => ({
    name: spec.name,
    file: spec.file,
    owner: state.owner ?? null,
    heartbeatAgeMs: Math.round(state.ageMs),
    alive: state.alive ?? null,
    stale: state.stale === false ? null : state.stale,
  }));
  ctx.reporter.result(human, json);
}

export async function unlockCommand(ctx: Context, args: string[]): Promise<void> {
  const wanted = args[0] ?? 'app';
  const backend = ctx.lockBackend;
  const spec = await namedLock(wanted, ctx.layout, ctx.config.lock, backend);
  if (!spec) {
    ctx.reporter.result([`no ${wanted} lock is held`], { ok: true, removed: null });
    return;
  }
  const state = await backend.clear(spec, { staleMs: ctx.config.lock.staleMs, now: ctx.now, host: ctx.identity.host }, (state) => {
    // Not stale means alive here, or (another host's) a heartbeat fresher than [lock] stale, or an
    // empty lock kept fresh (its holder could not write its name on a full disk): all refuse.
    if (state && !state.stale && !ctx.force) {
      const where = !state.owner ? 'unnamed' : state.alive === undefined ? 'other-host' : 'this-host';
      throw new UnlockRefusedError(spec.name, state.owner, where, state.ageMs);
    }
  });
  ctx.reporter.result([`removed the ${spec.name} lock (${spec.file})`], { ok: true, removed: spec.name, file: spec.file, owner: state?.owner ?? null });
}

export const LOCK: Command = {
  name: 'lock',
  args: 'list',
  summary: "show every lock (this app's, its cache's, the host's, shared resources')",
  flags: {},
  run: lockCommand,
};

export const UNLOCK: Command = {
  name: 'unlock',
  args: '[NAME]',
  summary: 'remove a lock: app (default), cache, host, or a resource name',
  flags: { force: { type: 'boolean', description: 'remove a lock even though its holder is alive' } },
  decide: (flags) => ({ force: !!flags.force }),
  run: unlockCommand,
};
