// A credential that cannot leak by accident: JSON.stringify, util.inspect, String() and template
// literals all show [redacted]. Only reveal() gives the value, right before it goes on the wire.
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
