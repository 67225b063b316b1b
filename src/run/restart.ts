// After an activation: restart the unit, check that it really restarted and is healthy; if not,
// put the previous deployment back, bring that up and verify it, and say exactly where the server
// stands: rolled back (exit 6 or 7), or nothing healthy left (exit 8).
import { activate } from '../steps/activate.ts';
import type { Context } from '../context.ts';
import { parseDeploymentName, type DeploymentName } from '../state/deployment.ts';
import { lstat } from '../sys/files.ts';
import { HealthCheckFailedError, RestartFailedError, RestartRolledBackError, ServerNeedsAttentionError, SocketInactiveError, SystemctlTimeoutError } from '../errors/index.ts';
import { runHealthCheck } from '../steps/health.ts';
import { appendActivation, readRecords, writeRecord, type Activation } from '../state/record.ts';
import { bestEffort } from '../state/best-effort.ts';
import { journalctlCommand, restartUnit, unitFailure, unitStatus, type ServiceTarget, type UnitStatus } from '../steps/service.ts';
import { reviveSocket, socketListening, socketOf, socketStartCommand, type SocketStatus } from '../steps/socket.ts';
import { redact } from '../errors/redact.ts';

export type BringUpFailure = { kind: 'restart'; error: RestartFailedError } | { kind: 'health'; detail: string };

export interface BringUpOptions {
  /**
   * The way back after a failed deployment: a socket that deployment's crash loop made systemd
   * stop (start limit hit) is started again rather than refused, or nothing would serve at all.
   */
  wayBack?: boolean;
}

/**
 * Before `active` moves: a socket-activated unit whose socket is not listening is refused
 * (SocketInactiveError, exit 6), since a restart would bring the app up behind a closed port.
 */
export async function requireListeningSocket(ctx: Context, activeNote: string): Promise<void> {
  const { unit, scope } = ctx.config.systemd;
  if (!unit) return;
  const socket = await socketOf({ unit, scope, env: ctx.env, signal: ctx.signal });
  if (socket && !socketListening(socket)) throw new SocketInactiveError(unit, socket, activeNote, socketStartCommand(scope, socket));
}

/** Restarts the unit (if any) onto `name` and verifies it. Returns why it failed, or undefined. */
export async function bringUp(ctx: Context, name: string, options: BringUpOptions = {}): Promise<BringUpFailure | undefined> {
  const { unit, scope } = ctx.config.systemd;
  let watch: ((signal: AbortSignal) => Promise<string | undefined>) | undefined;
  if (unit) {
    const target = { unit, scope, env: ctx.env, signal: ctx.signal };
    let socket: SocketStatus | undefined;
    try {
      socket = await socketOf(target);
      if (socket && !socketListening(socket)) {
        if (!options.wayBack) throw new SocketInactiveError(unit, socket, `active points at ${name}`, socketStartCommand(scope, socket));
        await reviveSocket(target, socket.unit);
      }
    } catch (error) {
      // A manager that does not answer cannot restart the unit either: the way back is tried.
      if (error instanceof SystemctlTimeoutError) return { kind: 'restart', error: new RestartFailedError(unit, error.argv, error.reason, journalctlCommand(scope, unit)) };
      throw error;
    }
    const before = await statusOrWarn(ctx, target, 'before its restart', 'whether the restart starts a new main process is not checked');
    try {
      await ctx.reporter.step('restart', restartDetail(unit, socket), () => restartUnit(target));
    } catch (error) {
      if (error instanceof RestartFailedError) return { kind: 'restart', error };
      throw error;
    }
    const after = await statusOrWarn(ctx, target, 'after its restart', 'the health check alone decides whether it came up');
    if (after && !['active', 'activating', 'reloading'].includes(after.activeState)) {
      return { kind: 'health', detail: `unit ${unit} is ${after.activeState} after the restart` };
    }
    // A restart that silently did not happen leaves the old main process running old code.
    if (before && after && before.startedMonotonicUs > 0 && after.startedMonotonicUs <= before.startedMonotonicUs) {
      return { kind: 'health', detail: `unit ${unit} did not start a new main process (still pid ${after.mainPid})` };
    }
    if (after) watch = watchFor(ctx, target, after);
  } else {
    await ctx.reporter.skip('restart', 'no [systemd] unit configured: nothing to restart');
  }
  const health = ctx.config.health;
  if (health) {
    const result = await ctx.reporter
      .step('health', health.kind === 'http' ? redact(health.url) : health.command.join(' '), () =>
        runHealthCheck(health, { cwd: ctx.layout.deployment(name), env: ctx.env, signal: ctx.signal, ...(watch ? { watch, watchIntervalMs: watchEvery(health.intervalMs) } : {}) }).then((r) => {
          if (!r.ok) throw Object.assign(new Error(r.detail), { result: r });
          return r;
        }),
        (r) => `${r.detail} (attempt ${r.attempts})`,
      )
      .catch((error: { result?: { detail: string } }) => {
        if (error.result) return error.result;
        throw error;
      });
    if (!('ok' in result) || !result.ok) return { kind: 'health', detail: result.detail };
  } else {
    await ctx.reporter.skip('health');
  }
  return undefined;
}

/** `app`, or `app (socket-activated: app.socket holds 127.0.0.1:8080)`: the restart line says which kind it was. */
function restartDetail(unit: string, socket: SocketStatus | undefined): string {
  if (!socket) return unit;
  return `${unit} (socket-activated: ${socket.unit} holds ${socket.listen.join(', ') || 'its address'})`;
}

/** The health check's companion: why the main process the restart started is gone, if it is. */
function watchFor(ctx: Context, target: ServiceTarget, started: UnitStatus): (signal: AbortSignal) => Promise<string | undefined> {
  let warned = false;
  return async (signal) => {
    try {
      return unitFailure(target.unit, started, await unitStatus({ ...target, signal: target.signal ? AbortSignal.any([target.signal, signal]) : signal }));
    } catch (error) {
      if (!(error instanceof SystemctlTimeoutError)) throw error;
      if (!warned) ctx.reporter.warn(`cannot watch unit ${target.unit} during the health check: ${error.message}`, 'the health check alone decides whether it came up');
      warned = true;
      return undefined;
    }
  };
}

/**
 * The unit's status, or undefined with a warning when systemctl does not answer (a failure of
 * another kind is undefined too, as before: the restart and the checks say more than it would).
 */
async function statusOrWarn(ctx: Context, target: ServiceTarget, when: string, consequence: string): Promise<UnitStatus | undefined> {
  try {
    return await unitStatus(target);
  } catch (error) {
    if (error instanceof SystemctlTimeoutError) ctx.reporter.warn(`cannot read the status of unit ${target.unit} ${when}: ${error.message}`, consequence);
    return undefined;
  }
}

/** Often enough that a crash ends the check well within one interval, never a busy loop of systemctl. */
const watchEvery = (intervalMs: number) => Math.min(Math.max(intervalMs, 50), 250);

export async function restartActive(ctx: Context, opts: { name: string; previous: string | undefined; sha: string }): Promise<void> {
  const failure = await bringUp(ctx, opts.name);
  if (!failure) {
    if (ctx.config.systemd.unit || ctx.config.health) await markHealthy(ctx, opts.name);
    return;
  }
  const logs = logsHint(ctx);
  const detail = failure.kind === 'restart' ? failure.error.message : failure.detail;
  await markFailed(ctx, opts.name, detail);
  const previous = await wayBack(ctx, opts);
  if (!previous) {
    if (failure.kind === 'restart') throw new RestartRolledBackError(failure.error, undefined, false);
    throw new HealthCheckFailedError(opts.name, detail, undefined, logs);
  }
  await ctx.reporter.step('rollback', previous.name, () => activate(ctx.layout, previous.name));
  await recordActivation(ctx, { name: previous.name, sha: previous.sha, at: new Date(ctx.now()).toISOString(), command: 'auto-rollback' });
  const again = await bringUp(ctx, previous.name, { wayBack: true });
  if (again) {
    throw new ServerNeedsAttentionError(opts.name, detail, previous.name, again.kind === 'restart' ? again.error.message : again.detail, logs);
  }
  if (failure.kind === 'restart') throw new RestartRolledBackError(failure.error, { name: previous.name, sha: previous.sha }, true);
  throw new HealthCheckFailedError(opts.name, detail, previous.sha, logs);
}

/**
 * The deployment `active` pointed at before, when it is still a directory of the app root. One
 * removed by hand, or a link that pointed elsewhere, is nothing to go back to: activating its name
 * would point `active` at nothing, and the app would be down for sure.
 */
async function wayBack(ctx: Context, opts: { name: string; previous: string | undefined }): Promise<DeploymentName | undefined> {
  const previous = opts.previous && opts.previous !== opts.name ? parseDeploymentName(opts.previous) : undefined;
  if (!previous) return undefined;
  const there = await lstat(ctx.layout.deployment(previous.name)).then((st) => st.isDirectory(), () => false);
  if (there) return previous;
  ctx.reporter.warn(`the previous deployment ${previous.name} is no directory of the app root (removed by hand?): nothing to roll back to`);
  return undefined;
}

export function logsHint(ctx: Context): string {
  const { unit, scope } = ctx.config.systemd;
  return unit ? journalctlCommand(scope, unit) : 'the health check output above';
}

/**
 * Appends to activations.jsonl after a swap. Best effort: the swap is the real change and has
 * happened, so a full disk must not turn it into a failed run; what is lost is the order a later
 * plain `mfd rollback` follows, and the warning says to name the target instead.
 */
export async function recordActivation(ctx: Context, activation: Activation): Promise<void> {
  await bestEffort(ctx.reporter, `active points at ${activation.name}, but the activation is not recorded`,
    'a later plain "mfd rollback" may not know it: name the target (mfd rollback <sha>)', () => appendActivation(ctx.layout, activation));
}

/** Recorded once a deployment came up and passed its checks; Go mfd's directories stay adopted. A label: best effort. */
export async function markHealthy(ctx: Context, name: string): Promise<void> {
  await bestEffort(ctx.reporter, `could not mark ${name} healthy`, 'it is running all the same; "mfd ls" shows it as built', async () => {
    const record = (await readRecords(ctx.layout)).get(name);
    if (!record || record.state === 'healthy') return;
    await writeRecord(ctx.layout, { ...record, state: 'healthy', updatedAt: new Date(ctx.now()).toISOString() });
  });
}

/** Best effort too: a full disk must not keep the previous deployment from being put back. */
async function markFailed(ctx: Context, name: string, reason: string): Promise<void> {
  await bestEffort(ctx.reporter, `could not mark ${name} failed`, 'a rollback could pick it again: name the target (mfd rollback <sha>)', async () => {
    const record = (await readRecords(ctx.layout)).get(name);
    const parsed = parseDeploymentName(name)!;
    const now = new Date(ctx.now()).toISOString();
    await writeRecord(ctx.layout, {
      name, sha: parsed.sha, ref: record?.ref ?? parsed.sha, fingerprint: record?.fingerprint ?? '',
      createdAt: record?.createdAt ?? now, updatedAt: now, state: 'failed', error: reason,
    });
  });
}
