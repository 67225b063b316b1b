// The one place lock names and their locations are made: each lock's name (what `mfd lock list`
// shows and `mfd unlock` takes) and its file, the inverse of that file naming, and the reading of
// a name the user types. Nothing else builds or re-parses a lock's name or file name.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LockConfig } from '../config/config.ts';
import { RESOURCE_NAME } from '../config/lock.ts';
import type { Layout } from '../state/layout.ts';

export interface LockSpec {
  /** `app`, `cache`, `host`, or `resource:<name>`: what the user names in `mfd unlock`. */
  name: string;
  file: string;
}

/** A lock as the user names it, before it has a location. */
export type LockName = { kind: 'app' } | { kind: 'cache' } | { kind: 'host' } | { kind: 'resource'; resource: string };

/** What a resource may be called: the config's rule, so every name maps to one file in the dir. */
const RESOURCE = RESOURCE_NAME;
const HOST_FILE = 'host.lock';
const RESOURCE_FILE = /^resource-([A-Za-z0-9._-]+)\.lock$/;

/** Where host-wide locks live: /run/lock is a tmpfs, so a reboot clears them, as it should. */
export function hostLockDir(config: LockConfig): string {
  if (config.dir) return config.dir;
  return existsSync('/run/lock') ? '/run/lock/mfd' : '/var/lock/mfd';
}

export const appLock = (layout: Layout): LockSpec => ({ name: 'app', file: layout.lockFile });
export const cacheLock = (layout: Layout): LockSpec => ({ name: 'cache', file: layout.cacheLockFile });
export const hostLock = (dir: string): LockSpec => ({ name: 'host', file: join(dir, HOST_FILE) });
export const resourceLock = (dir: string, resource: string): LockSpec => ({ name: `resource:${resource}`, file: join(dir, `resource-${resource}.lock`) });

/** The host-wide lock a file in `dir` is, by its name; undefined for a file that is no lock of ours. */
export function hostLockOfFile(dir: string, fileName: string): LockSpec | undefined {
  if (fileName === HOST_FILE) return hostLock(dir);
  const m = RESOURCE_FILE.exec(fileName);
  return m ? resourceLock(dir, m[1]!) : undefined;
}

/**
 * What the user typed in `mfd unlock NAME`: app, cache, host, `resource:<r>`, or a bare resource
 * name. Undefined for text no lock could be named, so it never becomes a path.
 */
export function parseLockName(text: string): LockName | undefined {
  if (text === 'app' || text === 'cache' || text === 'host') return { kind: text };
  const resource = text.startsWith('resource:') ? text.slice('resource:'.length) : text;
  return RESOURCE.test(resource) ? { kind: 'resource', resource } : undefined;
}

/** Where the lock of that name lives, for this app and its host lock dir. */
export function lockOf(name: LockName, layout: Layout, dir: string): LockSpec {
  switch (name.kind) {
    case 'app': return appLock(layout);
    case 'cache': return cacheLock(layout);
    case 'host': return hostLock(dir);
    case 'resource': return resourceLock(dir, name.resource);
  }
}
