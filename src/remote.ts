// Turns the [repo] config into what git.ts needs: the URL and credentials, revealed only here,
// right before they go to isomorphic-git's onAuth.
import type { Config } from './config.ts';

export type RemoteAuth =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  | { kind: 'basic'; username: string; password: string };

export interface Remote {
  url: string;
  auth: RemoteAuth;
}

export function remoteOf(config: Config): Remote {
  return { url: config.repo.url, auth: config.repo.auth as RemoteAuth };
}
