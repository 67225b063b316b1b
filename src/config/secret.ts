// A credential that cannot leak by accident: JSON.stringify, util.inspect, String() and template
// literals all show [redacted]. Only reveal() gives the value, right before it goes on the wire.
import { dirname, resolve } from 'node:path';
import { readRegularFile } from './regular-file.ts';
import type { Add } from './shape.ts';

const REDACTED = '[redacted]';

/**
 * The variables mfd reads secrets from ([repo], [status], [serve]). The config takes them in once;
 * the Context's environment, which every child inherits, never has them.
 */
export const SECRET_VARS: readonly string[] = ['MFD_REPO_TOKEN', 'MFD_STATUS_TOKEN', 'MFD_WEBHOOK_SECRET'];

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

/**
 * Whitespace, a control or a format character: no token holds one; inside, it is a second line, a
 * pasted "Bearer " or an escape. Made on first use: V8 builds a regular expression's Unicode
 * property sets (\p{...}) when its literal is evaluated, 2.5 M instructions (1.7% of `mfd ls`),
 * which every command paid at start-up while it was a module-level constant.
 */
const notInAToken = (token: string): boolean => /[\s\p{Cc}\p{Cf}]/u.test(token);

/** Why a value is no token: only whitespace, or whitespace or a control character inside (see notInAToken). */
export type TokenProblem = 'blank' | 'inside';

/**
 * The one rule for a token, however it is given (mfd.toml, a token file, the environment):
 * surrounding whitespace is trimmed (the newline of `$(cat file)`, an EnvironmentFile= line or a
 * file's last line, which failed the login for no visible reason or went into a header); what is
 * left must be non-empty and hold nothing no token has. Callers word the problem for where the
 * token came from, and never quote the value.
 */
export function readToken(value: string): { ok: true; secret: Secret } | { ok: false; problem: TokenProblem } {
  const token = value.trim();
  if (!token) return { ok: false, problem: 'blank' };
  if (notInAToken(token)) return { ok: false, problem: 'inside' };
  return { ok: true, secret: new Secret(token) };
}

/** A token from the environment (readToken's rule). Unset or empty: no token. A problem never quotes the value. */
export function readSecretVar(value: string | undefined): { ok: true; secret?: Secret } | { ok: false; problem: string } {
  if (value === undefined || value === '') return { ok: true };
  const read = readToken(value);
  if (read.ok) return read;
  return {
    ok: false,
    problem: read.problem === 'blank'
      ? 'is set in the environment but holds only whitespace'
      : 'is set in the environment to a value with whitespace or a control character inside, which no token has: set it to the token alone',
  };
}

/** A token written in mfd.toml at `path` (readToken's rule); a bad value is a problem under its key, never quoting it. */
export function readInlineToken(value: string, path: string[], add: Add): Secret | undefined {
  const read = readToken(value);
  if (read.ok) return read.secret;
  add(path, read.problem === 'blank'
    ? 'holds only whitespace: give the token, or leave the key out'
    : 'holds whitespace or a control character inside the token (a second line, or a word before it?), which no token has: give the token alone');
  return undefined;
}

/**
 * The one rule for an HMAC key (the webhook secret), however it is given: surrounding whitespace
 * is trimmed, as a token's is (a forge signs with the secret as typed into its form, so an
 * untrimmed newline failed every delivery's signature); nothing left is no key. Whitespace inside
 * may be the key's own, so unlike readToken nothing inside is refused.
 */
export function readKey(value: string): Secret | undefined {
  const key = value.trim();
  return key ? new Secret(key) : undefined;
}

/**
 * Reads a secret from a file named in mfd.toml (relative to it), where `${CREDENTIALS_DIRECTORY}` is
 * the one variable expanded: the directory systemd hands a unit's LoadCredential= files in; any
 * other is a typo or a leak. A problem is one line saying why it cannot be had.
 */
export async function readCredentialFile(
  configFile: string,
  template: string,
  env: Record<string, string | undefined>,
): Promise<{ ok: true; path: string; secret: Secret } | { ok: false; problem: string; cause?: unknown }> {
  let unset: string | undefined;
  const expanded = template.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (_all, name: string) => {
    if (name !== 'CREDENTIALS_DIRECTORY') unset ??= `\${${name}} is not expanded (only \${CREDENTIALS_DIRECTORY} is)`;
    else if (!env.CREDENTIALS_DIRECTORY) unset ??= '${CREDENTIALS_DIRECTORY} is not set: systemd sets it for a unit with LoadCredential=';
    return env[name] ?? '';
  });
  if (unset) return { ok: false, problem: unset };
  const path = resolve(dirname(configFile), expanded);
  const read = await readSecretFile(path);
  return read.ok ? { ok: true, path, secret: read.secret } : read;
}

/** A token or key is a few hundred bytes; more is the wrong file. */
const SECRET_FILE_MAX_BYTES = 64 * 1024;

/** The trimmed contents of a file holding a secret (a regular file of at most 64 KiB), or one line saying why it cannot be had. */
export async function readSecretFile(path: string): Promise<{ ok: true; secret: Secret } | { ok: false; problem: string; cause?: unknown }> {
  const read = readRegularFile(path, SECRET_FILE_MAX_BYTES);
  if (!read.ok) {
    if (read.problem === 'not-regular') return { ok: false, problem: `${path} is ${read.kind}: a secret is read from a regular file` };
    if (read.problem === 'too-large') return { ok: false, problem: `${path} holds more than 64 KiB, which no token or secret does: is it the right file?` };
    return { ok: false, problem: `cannot read ${path}: ${read.errno}`, cause: read.cause };
  }
  const secret = readKey(read.text);
  if (!secret) return { ok: false, problem: `${path} is empty` };
  return { ok: true, secret };
}

/**
 * A token file (repo.token_file, status.token_file, serve.status_token_file) read as readCredentialFile reads it, trimmed,
 * and refused when anything is left inside the token that no token has (see notInAToken): sent
 * as it is, it failed at the server for no visible reason. The problem names the file, never its
 * contents. Not for serve.secret_file: an HMAC key may hold any bytes.
 */
export async function readTokenCredential(
  configFile: string,
  template: string,
  env: Record<string, string | undefined>,
): Promise<{ ok: true; path: string; secret: Secret } | { ok: false; problem: string; cause?: unknown }> {
  const read = await readCredentialFile(configFile, template, env);
  // Read already trimmed and non-empty (readSecretFile): readToken can only find something inside.
  if (!read.ok || readToken(read.secret.reveal()).ok) return read;
  return { ok: false, problem: `${read.path} holds whitespace or a control character inside the token (a second line, or a word before it?), which no token has: put the token alone in the file` };
}
