// Errors of the git server and the cache (exit 4): a ref that does not resolve, auth, an unreachable
// or stalled server, a cache that cannot be used, a checkout that failed. Every message names the URL or sha.
import { formatDuration } from './duration.ts';
import { EXIT, MfdError } from './base.ts';
import { inert } from './inert.ts';

export class RefNotFoundError extends MfdError {
  readonly code = 'REF_NOT_FOUND';
  readonly exitCode = EXIT.git;
  constructor(readonly ref: string, readonly url: string, detail = '', hint = `check the name with: git ls-remote ${url}`) {
    super(`ref "${ref}" not found in ${url}${detail ? `: ${detail}` : ''}`, { hint });
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
  /** The reason as shown: often the server's own words (see printable). */
  readonly reason: string;
  constructor(readonly url: string, reason: string, cause?: unknown) {
    const shown = printable(reason);
    super(`cannot reach ${url}: ${shown}`, {
      cause,
      hint: 'check repo.url and that this server can reach it, e.g. git ls-remote <url>',
    });
    this.reason = shown;
  }
}

/** Longer server text is cut: a pkt-line may carry 65,516 bytes of it. */
const MAX_REASON = 300;

/**
 * A reason that may quote the server (a fatal side-band message, a line isomorphic-git could not
 * parse) as one printable line: line breaks become spaces, so no line of it can pose as a hint;
 * other control characters are shown escaped (inert.ts), so none reaches the terminal as an escape
 * sequence (git masks them in side-band messages too, CVE-2024-52005).
 */
function printable(text: string): string {
  const flat = inert(text.replace(/\s*[\r\n\u2028\u2029]\s*/g, ' ')).trim();
  return flat.length > MAX_REASON ? `${flat.slice(0, MAX_REASON - 1)}…` : flat;
}

/**
 * The git server answered with an error of its own: an `ERR` line, or a message on side-band 3.
 * Its text is the world's: quoted, one printable line, bounded (see printable).
 */
export class GitRefusedError extends MfdError {
  readonly code = 'GIT_REFUSED';
  readonly exitCode = EXIT.git;
  readonly said: string;
  constructor(readonly url: string, said: string) {
    const text = printable(said);
    super(`the git server at ${url} refused: "${text}"`, {
      hint: 'that is the server\'s own message: check the repository and this machine\'s access to it there, e.g. git ls-remote <url>',
    });
    this.said = text;
  }
}

/**
 * The server's ref advertisement or ref listing ran past `limitBytes` (ref-limit.ts): read whole
 * before anything acts on it, it is cut there, not left to fill this process's memory.
 */
export class GitRefsTooLargeError extends MfdError {
  readonly code = 'GIT_REFS_TOO_LARGE';
  readonly exitCode = EXIT.git;
  constructor(readonly url: string, readonly limitBytes: number) {
    super(`the ref list from ${url} is over ${limitBytes / 1024 ** 2} MiB, more than mfd reads`, {
      hint: 'check that repo.url names a git repository (git ls-remote <url> | wc -l); if it really has that many refs, delete stale ones on the server (old tags, pull-request refs)',
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

/** The server sent a pack mfd refuses to store: corrupt, truncated, or not what it claims (pack-index.ts). */
export class GitPackInvalidError extends MfdError {
  readonly code = 'GIT_PACK_INVALID';
  readonly exitCode = EXIT.git;
  constructor(readonly url: string, readonly reason: string) {
    super(`the pack from ${url} is invalid: ${reason}`, {
      hint: 'nothing was stored; deploy again, and if it persists check the repository on the server (git fsck)',
    });
  }
}
