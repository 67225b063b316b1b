// Turns the [repo] config into what git/ needs: the URL and credentials, revealed only here,
// right before they go to isomorphic-git's onAuth.
import type { Config } from '../config/config.ts';
import type { RepoRemote } from './transport.ts';

export type Remote = RepoRemote;

export function remoteOf(config: Config): Remote {
  const { auth, url, timeoutMs } = config.repo;
  switch (auth.kind) {
    case 'none':
      return { url, auth, timeoutMs };
    case 'token':
      return { url, auth: { kind: 'token', token: auth.token.reveal() }, timeoutMs };
    case 'basic':
      return { url, auth: { kind: 'basic', username: auth.username, password: auth.password.reveal() }, timeoutMs };
  }
}
