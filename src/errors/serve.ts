// Errors of `mfd serve` before it serves: no webhook secret, or an address it cannot bind. Both
// are the configuration's to fix (exit 2); what a delivery gets wrong is an HTTP status, not an error.
import { EXIT, MfdError } from './base.ts';

export class WebhookSecretMissingError extends MfdError {
  readonly code = 'WEBHOOK_SECRET_MISSING';
  readonly exitCode = EXIT.config;
  constructor(readonly file: string) {
    super(`${file}: mfd serve needs a webhook secret, and none of [serve] secret, [serve] secret_file or MFD_WEBHOOK_SECRET is set`, {
      hint: 'set MFD_WEBHOOK_SECRET, or [serve] secret_file = "${CREDENTIALS_DIRECTORY}/webhook-secret" with LoadCredential= in the unit, or [serve] secret in mfd.toml (chmod 600); give the forge the same secret',
    });
  }
}

export class ServeListenError extends MfdError {
  readonly code = 'SERVE_LISTEN';
  readonly exitCode = EXIT.config;
  constructor(readonly address: string, readonly errno: string, cause?: unknown) {
    const why = errno === 'EADDRINUSE' ? 'the address is in use' : errno === 'EACCES' ? 'permission denied (a port below 1024 needs privileges)' : errno === 'EADDRNOTAVAIL' ? 'no interface of this host has that address' : errno;
    super(`mfd serve cannot listen on ${address}: ${why} (${errno})`, {
      cause,
      hint: errno === 'EADDRINUSE' ? `stop what listens there (ss -ltnp 'sport = :${address.split(':').pop()}'), or change [serve] listen` : 'change [serve] listen in mfd.toml',
    });
  }
}

export class WebhookSecretUnreadableError extends MfdError {
  readonly code = 'WEBHOOK_SECRET_UNREADABLE';
  readonly exitCode = EXIT.config;
  constructor(readonly file: string, readonly reason: { problem: string; viaCredentials: boolean; line?: number }, cause?: unknown) {
    // The shape of a ConfigInvalidError's line: file, line of the key, key, problem.
    super(`${file}: ${reason.line === undefined ? '' : `line ${reason.line}: `}serve.secret_file: ${reason.problem}`, {
      cause,
      hint: reason.viaCredentials
        ? 'the unit that runs mfd serve needs LoadCredential=webhook-secret:<file> (see systemd/mfd-serve@.service), and that file must exist; or point serve.secret_file at the file itself'
        : 'check that the file exists, is not empty, and that the user mfd serve runs as can read it',
    });
  }
}
