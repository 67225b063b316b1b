import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as errors from '../../src/errors/index.ts';

const { EXIT, MfdError } = errors;

const ROOT = new URL('../..', import.meta.url).pathname;
const README = readFileSync(`${ROOT}README.md`, 'utf8');

/** The rows of the first table after `heading` in the README: each row's cells, trimmed. */
function tableAfter(heading: string): string[][] {
  const start = README.indexOf(`\n${heading}\n`);
  assert.notEqual(start, -1, `README has a "${heading}" section`);
  const lines = README.slice(start).split('\n').slice(1);
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split(' | ').map((c) => c.trim()));
  }
  return rows;
}

const fsInfo = { code: 'EACCES', op: 'open', path: 'x' };
const owner = { pid: 2, user: 'u', hostname: 'h', timestamp: 0, command: 'deploy', ref: null };
const restart = new errors.RestartFailedError('app', ['systemctl', 'restart', 'app'], 'exit 1', 'journalctl -u app');

/** One instance of every class: `code` is an instance field, so it is read from an instance. */
const INSTANCES: Record<string, errors.MfdError> = {
  UsageError: new errors.UsageError('bad'),
  ConfigInvalidError: new errors.ConfigInvalidError('mfd.toml', []),
  ConfigNotFoundError: new errors.ConfigNotFoundError('mfd.toml'),
  ConfigUnreadableError: new errors.ConfigUnreadableError('mfd.toml', { problem: 'not-regular', kind: 'a FIFO (named pipe)' }),
  RefNotFoundError: new errors.RefNotFoundError('main', 'url'),
  RefAmbiguousError: new errors.RefAmbiguousError('abcd', []),
  RefInvalidError: new errors.RefInvalidError('main~x', 'why'),
  GitAuthError: new errors.GitAuthError('url'),
  GitFetchError: new errors.GitFetchError('url', 'why'),
  GitTimeoutError: new errors.GitTimeoutError('url', 'stalled', 1000),
  GitCacheError: new errors.GitCacheError('why'),
  GitPackInvalidError: new errors.GitPackInvalidError('http://x', 'why'),
  GitRefusedError: new errors.GitRefusedError('http://x', 'said'),
  GitRefsTooLargeError: new errors.GitRefsTooLargeError('http://x', 64 * 1024 ** 2),
  CheckoutFailedError: new errors.CheckoutFailedError('sha', 'dir', 'why'),
  TreeInvalidError: new errors.TreeInvalidError('sha', '', 'badTree', 'why'),
  BuildFailedError: new errors.BuildFailedError(['make'], 1, '', 'log'),
  DiskSpaceLowError: new errors.DiskSpaceLowError('root', '1 MiB', '100 MiB'),
  OutputDiskFullError: new errors.OutputDiskFullError('ENOSPC', '/full/out'),
  ActivateFailedError: new errors.ActivateFailedError('target', 'why'),
  RestartFailedError: restart,
  RestartRolledBackError: new errors.RestartRolledBackError(restart, undefined, false),
  SystemctlTimeoutError: new errors.SystemctlTimeoutError(['systemctl', 'show', 'app'], 10_000, 'systemctl status app'),
  SocketInactiveError: new errors.SocketInactiveError('app', { unit: 'app.socket', activeState: 'failed', result: 'service-start-limit-hit', listen: ['127.0.0.1:8080'] }, 'active is untouched', 'systemctl start app.socket'),
  HealthCheckFailedError: new errors.HealthCheckFailedError('dep', 'why', undefined, 'journalctl'),
  HealthFailure: new errors.HealthFailure('why', 'journalctl'),
  RollbackUnavailableError: new errors.RollbackUnavailableError('why'),
  DeploymentNotFoundError: new errors.DeploymentNotFoundError('target'),
  RollbackFailedError: new errors.RollbackFailedError('target', restart),
  ServerNeedsAttentionError: new errors.ServerNeedsAttentionError('a', 'why', 'b', 'why', 'journalctl'),
  LockHeldError: new errors.LockHeldError('app', undefined, 0, 'lock', 1000, 0),
  UnlockRefusedError: new errors.UnlockRefusedError('app', owner),
  HostLockDirUnsafeError: new errors.HostLockDirUnsafeError('/run/lock/mfd', { kind: 'mode', mode: 0o777 }, 0),
  FsError: new errors.FsError(fsInfo),
  DiskFullError: new errors.DiskFullError({ ...fsInfo, code: 'ENOSPC' }),
  FsPermissionError: new errors.FsPermissionError(fsInfo),
  FsLayoutError: new errors.FsLayoutError({ ...fsInfo, code: 'EISDIR' }),
  InterruptedError: new errors.InterruptedError('SIGINT', 'before the build'),
  WebhookSecretMissingError: new errors.WebhookSecretMissingError('mfd.toml'),
  ServeListenError: new errors.ServeListenError('127.0.0.1:8090', 'EADDRINUSE'),
  WebhookSecretUnreadableError: new errors.WebhookSecretUnreadableError('mfd.toml', { problem: 'cannot read x: ENOENT', viaCredentials: true }),
  DeploySupersededError: new errors.DeploySupersededError('sha', 'why'),
};

describe('errors', () => {
  test('every MfdError class the barrel exports has its own stable code', () => {
    const classes = Object.entries(errors as Record<string, unknown>)
      .filter(([, value]) => typeof value === 'function' && value.prototype instanceof MfdError)
      .map(([name]) => name)
      .sort();
    assert.deepEqual(Object.keys(INSTANCES).sort(), classes, 'a new error class gets an instance in INSTANCES');
    const byCode = new Map<string, string>();
    for (const [name, error] of Object.entries(INSTANCES)) {
      assert.equal(error.constructor.name, name);
      assert.match(error.code, /^[A-Z][A-Z_]*$/, `${name}: code`);
      assert.equal(byCode.get(error.code), undefined, `${name} shares code ${error.code} with ${byCode.get(error.code)}`);
      byCode.set(error.code, name);
    }
  });

  test('a rollback after a failed restart and the cause of a failed rollback are told apart from their neighbours', () => {
    assert.deepEqual(
      [INSTANCES.RestartFailedError!.code, INSTANCES.RestartRolledBackError!.code, INSTANCES.HealthCheckFailedError!.code, INSTANCES.HealthFailure!.code],
      ['RESTART_FAILED', 'RESTART_ROLLED_BACK', 'HEALTH_CHECK_FAILED', 'HEALTH_FAILURE'],
    );
  });

  test('the README lists every error code with the exit code the class gives it, and no code that does not exist', () => {
    const documented = new Map(tableAfter('### Error codes').map(([code, exit]) => [code!.replace(/`/g, ''), exit!]));
    // The signal decides an interruption's exit code: each of them is listed.
    const interrupted = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => new errors.InterruptedError(s, 'x').exitCode).join(', ');
    const expected = new Map([['INTERNAL', String(EXIT.internal)]]);
    for (const error of Object.values(INSTANCES)) expected.set(error.code, error.code === 'INTERRUPTED' ? interrupted : String(error.exitCode));
    assert.deepEqual(Object.fromEntries([...documented].sort()), Object.fromEntries([...expected].sort()));
  });

  test('the README\'s exit codes and the usage text are the exit codes mfd gives', () => {
    const codes = [...new Set([...Object.values(EXIT), ...Object.values(INSTANCES).map((e) => e.exitCode), 143, 129])].sort((a, b) => a - b);
    const readme = tableAfter('## Exit codes').map(([code]) => Number(code)).sort((a, b) => a - b);
    assert.deepEqual(readme, codes);
    // cli.ts's usage text ends with the list ("Exit codes: 0 ok, 1 internal, ...").
    const cli = readFileSync(`${ROOT}src/cli.ts`, 'utf8');
    const usage = cli.slice(cli.indexOf("'Exit codes:"), cli.indexOf("].join('\\n')", cli.indexOf("'Exit codes:")));
    const listed = [...new Set([...usage.matchAll(/\b(\d+)\b/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
    assert.deepEqual(listed, codes);
  });
});
