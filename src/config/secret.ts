// A credential that cannot leak by accident: JSON.stringify, util.inspect, String() and template
// literals all show [redacted]. Only reveal() gives the value, right before it goes on the wire.
import { readFile } from '../sys/files.ts';
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
  let value: string;
  try {
    value = (await readFile(path, 'utf8')).trim();
  } catch (error) {
    return { ok: false, problem: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, cause: error };
  }
  if (!value) return { ok: false, problem: `${path} is empty` };
  return { ok: true, path, secret: new Secret(value) };
}
