// What `mfd serve` watches: the branch a push must be to (repo.branch, else the remote's default
// branch, resolved once at start with one ref advertisement), and whether an address stays on this host.
import type { Context } from '../context.ts';
import { remoteOf } from '../git/remote.ts';

/** The watched branch as a full ref. Without repo.branch, one ref advertisement asks the remote's HEAD. */
export async function watchedRef(ctx: Context): Promise<string> {
  const branch = ctx.config.repo.branch;
  if (branch) return branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
  const { resolveRef } = await import('../git/git.ts');
  const resolved = await resolveRef({ remote: { ...remoteOf(ctx.config), signal: ctx.signal }, gitdir: ctx.layout.repo, ref: 'HEAD' });
  return resolved.ref;
}

/** 127.0.0.0/8, ::1 and localhost: nothing beyond this host can connect. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
