// Every failure mfd reports is an MfdError: a stable code, an exit code per class, one line of
// facts (the message) and the next thing to do (the hint). cli.ts is the only place that prints them.
import { formatDuration } from './duration.ts';
import { EXIT, MfdError } from './base.ts';

export { EXIT, MfdError } from './base.ts';
export * from './lock.ts';
export * from './fs.ts';
export * from './run.ts';
export * from './tree.ts';

export class UsageError extends MfdError {
  readonly code = 'USAGE';
  readonly exitCode = EXIT.usage;
  constructor(message: string, hint = 'run "mfd help" for usage') {
    super(message, { hint });
  }
}

export interface ConfigIssue {
  /** Key path such as `build.commands.1`, or '' for the file as a whole. */
  path: string;
  message: string;
  line?: number;
}

export class ConfigInvalidError extends MfdError {
  readonly code = 'CONFIG_INVALID';
  readonly exitCode = EXIT.config;
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    const lines = issues.map((i) => {
      const where = [i.line === undefined ? '' : `line ${i.line}`, i.path].filter(Boolean).join(': ');
      return `${file}: ${where ? `${where}: ` : ''}${i.message}`;
    });
    super(
      issues.length === 1 ? lines[0]! : `${file}: ${issues.length} problems\n${lines.map((l) => `  ${l}`).join('\n')}`,
      { hint: 'fix the keys above; mfd.toml.example lists every key mfd accepts' },
    );
  }
}

export class ConfigNotFoundError extends MfdError {
  readonly code = 'CONFIG_NOT_FOUND';
  readonly exitCode = EXIT.config;
  constructor(readonly file: string, cause?: unknown) {
    super(`config file not found: ${file}`, {
      cause,
      hint: 'run mfd in the app root (the directory holding mfd.toml), or pass -C DIR or --config FILE',
    });
  }
}

export class RefNotFoundError extends MfdError {
  readonly code = 'REF_NOT_FOUND';
  readonly exitCode = EXIT.git;
  constructor(readonly ref: string, readonly url: string, detail = '') {
    super(`ref "${ref}" not found in ${url}${detail ? `: ${detail}` : ''}`, {
      hint: `check the name with: git ls-remote ${url}`,
    });
  }
}

export class RefAmbiguousError extends MfdError {
  readonly code = 'REF_AMBIGUOUS';
  readonly exitCode = EXIT.git;
  constructor(readonly ref: string, readonly candidates: string[]) {
    super(`short sha "${ref}" is ambiguous: ${candidates.join(', ')}`, {
      hint: 'give more hex digits, or the full 40-character sha',
    });
  }
}

export class GitAuthError extends MfdError {
  readonly code = 'GIT_AUTH';
  readonly exitCode = EXIT.git;
  constructor(readonly url: string, readonly status?: number, cause?: unknown) {
    super(`authentication to ${url} failed${status ? ` (HTTP ${status})` : ''}`, {
      cause,
      hint: 'check repo.token (or MFD_REPO_TOKEN, repo.token_file) or repo.username + repo.password in mfd.toml',
    });
  }
}

export class GitFetchError extends MfdError {
  readonly code = 'GIT_FETCH';
  readonly exitCode = EXIT.git;
  constructor(readonly url: string, readonly reason: string, cause?: unknown) {
    super(`cannot reach ${url}: ${reason}`, {
      cause,
      hint: 'check repo.url and that this server can reach it, e.g. git ls-remote <url>',
    });
  }
}

/** A transfer from the git server got no answer, or crawled, for `[repo] timeout` (http-client.ts). */
export class GitTimeoutError extends MfdError {
  readonly code = 'GIT_TIMEOUT';
  readonly exitCode = EXIT.git;
  constructor(readonly url: string, readonly kind: 'stalled' | 'no-answer', readonly timeoutMs: number) {
    const span = formatDuration(timeoutMs);
    super(kind === 'stalled' ? `transfer from ${url} stalled: less than 1 KiB/s for ${span}` : `no answer from ${url} for ${span}`, {
      hint: `check that this server can reach it (git ls-remote <url>); on a slow link or a slow server raise [repo] timeout in mfd.toml (now ${span})`,
    });
  }
}

/** A git step failed on this machine's side: the cache could not be read or written. */
export class GitCacheError extends MfdError {
  readonly code = 'GIT_CACHE';
  readonly exitCode = EXIT.git;
  constructor(readonly reason: string, cause?: unknown) {
    super(`cannot use the git cache .mfd/repo.git: ${reason}`, {
      cause,
      hint: 'check its permissions and free space; if it is damaged, remove .mfd/repo.git (the next deploy fetches again)',
    });
  }
}

export class BuildFailedError extends MfdError {
  readonly code = 'BUILD_FAILED';
  readonly exitCode = EXIT.build;
  constructor(
    readonly argv: string[],
    readonly exitStatus: number | string,
    readonly tail: string,
    readonly logFile: string,
    cause?: unknown,
  ) {
    const status = typeof exitStatus === 'number' ? `exit status ${exitStatus}` : exitStatus;
    super(
      `build command ${JSON.stringify(argv)} failed with ${status}${tail ? `; last lines:\n${tail}` : ''}`,
      { cause, hint: `the full output is in ${logFile}; active is untouched` },
    );
  }
}

export class DiskSpaceLowError extends MfdError {
  readonly code = 'DISK_SPACE_LOW';
  readonly exitCode = EXIT.disk;
  constructor(readonly root: string, readonly free: string, readonly floor: string) {
    super(`only ${free} free on the file system of ${root}, below the floor of ${floor}: not fetching or building`, {
      hint: 'free some space (old deployments: "mfd ls"; other files: du -sh), or lower [deploy] min_free',
    });
  }
}

export class ActivateFailedError extends MfdError {
  readonly code = 'ACTIVATE_FAILED';
  readonly exitCode = EXIT.activate;
  constructor(readonly target: string, readonly reason: string, cause?: unknown) {
    super(`cannot point active at ${target}: ${reason}`, {
      cause,
      hint: 'check permissions and free space in the app root; active is unchanged',
    });
  }
}

export class RestartFailedError extends MfdError {
  readonly code = 'RESTART_FAILED';
  readonly exitCode = EXIT.activate;
  constructor(
    readonly unit: string,
    readonly argv: string[],
    readonly reason: string,
    readonly logsCommand: string,
    cause?: unknown,
  ) {
    super(`restart of unit ${unit} failed: ${argv.join(' ')}: ${reason}`, {
      cause,
      hint: `see why with: ${logsCommand}`,
    });
  }
}

export class RollbackUnavailableError extends MfdError {
  readonly code = 'ROLLBACK_UNAVAILABLE';
  readonly exitCode = EXIT.rollback;
  constructor(readonly reason: string) {
    super(`nothing to roll back to: ${reason}`, {
      hint: 'run "mfd ls" to see the deployments; deploy a known good ref with "mfd deploy <ref>"',
    });
  }
}

export class DeploymentNotFoundError extends MfdError {
  readonly code = 'DEPLOYMENT_NOT_FOUND';
  readonly exitCode = EXIT.rollback;
  constructor(readonly target: string, readonly detail = 'no good deployment matches') {
    super(`${detail}: ${target}`, { hint: 'run "mfd ls" to see the deployments you can roll back to' });
  }
}

/** The new deployment was activated but its unit would not restart; mfd put the previous one back. */
export class RestartRolledBackError extends MfdError {
  readonly code = 'RESTART_FAILED';
  readonly exitCode = EXIT.activate;
  constructor(
    readonly failure: RestartFailedError,
    readonly restored: { name: string; sha: string } | undefined,
    readonly restoredRestartOk: boolean,
  ) {
    const after = !restored
      ? 'there was no previous deployment to go back to, so it stays active'
      : restoredRestartOk
        ? `rolled back to ${restored.sha} (${restored.name}), which restarted`
        : `put active back to ${restored.sha} (${restored.name}) but its restart failed too: the unit is down`;
    super(`${failure.message}; ${after}`, { hint: failure.hint, cause: failure });
  }
}

/** `mfd rollback` activated its target but the unit would not restart on it. */
export class RollbackFailedError extends MfdError {
  readonly code = 'ROLLBACK_FAILED';
  readonly exitCode = EXIT.rollback;
  constructor(readonly target: string, readonly failure: MfdError) {
    super(`rollback to ${target} is active but did not come up: ${failure.message}`, {
      hint: failure.hint,
      cause: failure,
    });
  }
}

/** REF is not something mfd can resolve: bad revision syntax (mfd accepts NAME~N and NAME^N). */
export class RefInvalidError extends MfdError {
  readonly code = 'REF_INVALID';
  readonly exitCode = EXIT.git;
  constructor(readonly ref: string, readonly reason: string) {
    super(`cannot resolve "${ref}": ${reason}`, {
      hint: 'give a branch, a tag, a sha (4+ hex digits), optionally followed by ~N or ^N, e.g. main~2',
    });
  }
}

export class CheckoutFailedError extends MfdError {
  readonly code = 'CHECKOUT_FAILED';
  readonly exitCode = EXIT.git;
  constructor(readonly sha: string, readonly dir: string, readonly reason: string, cause?: unknown) {
    super(`cannot check out ${sha} into ${dir}: ${reason}`, {
      cause,
      hint: 'check free space and permissions in the app root; if the cache is damaged, remove .mfd/repo.git and deploy again',
    });
  }
}

/** The new deployment came up unhealthy; mfd put the previous one back (or had none to go to). */
export class HealthCheckFailedError extends MfdError {
  readonly code = 'HEALTH_CHECK_FAILED';
  readonly exitCode = EXIT.health;
  constructor(readonly deployment: string, readonly detail: string, readonly restored: string | undefined, logsCommand: string) {
    super(
      `${deployment} is unhealthy: ${detail}; ${restored ? `rolled back to ${restored}, which is healthy` : 'there was no previous deployment to go back to, so it stays active'}`,
      { hint: `see why with: ${logsCommand}` },
    );
  }
}

/** A failed deployment, and the way back failed too: the server is down or unhealthy. */
export class ServerNeedsAttentionError extends MfdError {
  readonly code = 'SERVER_NEEDS_ATTENTION';
  readonly exitCode = EXIT.rollback;
  constructor(readonly failed: string, readonly firstDetail: string, readonly restored: string, readonly secondDetail: string, logsCommand: string) {
    super(
      `the server needs attention: ${failed} failed (${firstDetail}), and ${restored}, put back as active, failed too (${secondDetail})`,
      { hint: `see why with: ${logsCommand}; then "mfd ls" and "mfd rollback <sha>" or "mfd deploy <ref>"` },
    );
  }
}

/** Why a verification after a restart failed; carried as the cause of a rollback failure. */
export class HealthFailure extends MfdError {
  readonly code = 'HEALTH_CHECK_FAILED';
  readonly exitCode = EXIT.health;
  constructor(readonly detail: string, logsCommand: string) {
    super(detail, { hint: `see why with: ${logsCommand}` });
  }
}
