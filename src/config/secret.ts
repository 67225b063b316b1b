// A credential that cannot leak by accident: JSON.stringify, util.inspect, String() and template
// literals all show [redacted]. Only reveal() gives the value, right before it goes on the wire.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

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

/**
 * The trimmed contents of a file holding a secret, or one line saying why it cannot be had. Only
 * a regular file of at most 64 KiB: a FIFO would hold every command for ever waiting for a writer
 * (O_NONBLOCK opens it without waiting, so it can be refused), and a device such as /dev/zero
 * never ends. A link is followed: a credential may well be one.
 */
export async function readSecretFile(path: string): Promise<{ ok: true; secret: Secret } | { ok: false; problem: string; cause?: unknown }> {
  // Synchronous: a few hundred bytes of a local file, and no node:fs/promises to load at start-up.
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    return { ok: false, problem: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, cause: error };
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return { ok: false, problem: `${path} is ${kindOf(info)}: a secret is read from a regular file` };
    // One byte more than the limit tells a file at the limit from a larger one (it may grow as it is read).
    const buffer = Buffer.alloc(SECRET_FILE_MAX_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > SECRET_FILE_MAX_BYTES) return { ok: false, problem: `${path} holds more than 64 KiB, which no token or secret does: is it the right file?` };
    const value = buffer.toString('utf8', 0, length).trim();
    if (!value) return { ok: false, problem: `${path} is empty` };
    return { ok: true, secret: new Secret(value) };
  } catch (error) {
    return { ok: false, problem: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, cause: error };
  } finally {
    closeSync(fd);
  }
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'of another type';
}
