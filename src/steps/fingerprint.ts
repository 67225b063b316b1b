// The fingerprint of a deployment's build commands: a redeploy reuses a good deployment of the
// same sha only when it was built by the same commands. Its own module so that commands that only
// read records (ls, status) do not load node:crypto.
import { createHash } from 'node:crypto';

export function fingerprintCommands(commands: readonly (readonly string[])[]): string {
  return createHash('sha256').update(JSON.stringify(commands)).digest('hex').slice(0, 16);
}
