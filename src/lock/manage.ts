// What the lock manager (`mfd lock list`, `mfd unlock`) sees: this app's locks and every host-wide
// lock that exists, as the backend lists them, and which of them a name the user typed means.
import type { LockConfig } from '../config/config.ts';
import type { Layout } from '../state/layout.ts';
import type { LockBackend } from './backend.ts';
import { fileBackend } from './file.ts';
import { appLock, cacheLock, hostLockDir, lockOf, parseLockName, type LockSpec } from './names.ts';

/** This app's lock and cache lock (whether held or not), then each host-wide lock that exists. */
export async function managedLocks(layout: Layout, config: LockConfig, backend: LockBackend = fileBackend): Promise<LockSpec[]> {
  return [appLock(layout), cacheLock(layout), ...(await backend.list(hostLockDir(config)))];
}

/** The lock `text` names (`mfd unlock NAME`), or undefined when it names none that exists. */
export async function namedLock(text: string, layout: Layout, config: LockConfig, backend: LockBackend = fileBackend): Promise<LockSpec | undefined> {
  const name = parseLockName(text);
  if (!name) return undefined;
  const dir = hostLockDir(config);
  const spec = lockOf(name, layout, dir);
  // This app's own locks are always there to clear; a host-wide one only if it exists.
  if (name.kind === 'app' || name.kind === 'cache') return spec;
  return (await backend.list(dir)).find((s) => s.name === spec.name);
}
