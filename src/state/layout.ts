// Every on-disk name under the app root, derived from `root` (and this process's pid for its own
// temporary link and temp files); nothing else builds these paths.
// The layout matches Go mfd: mfd.toml, active -> mfd_<unix>_<sha>, plus mfd's own state in .mfd/.
import { join } from 'node:path';

export interface Layout {
  root: string;
  /** The process that writes through this layout: names its `activeTmp` and its atomic writes' temp files. */
  pid: number;
  active: string;
  /** Temporary link created beside `active` and renamed over it. */
  activeTmp: string;
  state: string;
  repo: string;
  records: string;
  logs: string;
  activations: string;
  history: string;
  lockFile: string;
  /** Held while the cached repository is written (fetch, deepen, compaction). */
  cacheLockFile: string;
  deployment(name: string): string;
  /** Where prune renames a deployment before removing it, so a removal cut short leaves no deployment. */
  pruning(name: string): string;
  record(name: string): string;
  log(runId: string): string;
}

export const ACTIVE = 'active';
export const ACTIVE_TMP_PREFIX = '.active.tmp-';
export const PRUNING_PREFIX = '.mfd-prune-';

/** `pid`: the process that will use this layout (the Context's identity), which names its `activeTmp`. */
export function layoutOf(root: string, pid: number): Layout {
  const state = join(root, '.mfd');
  return {
    root,
    pid,
    active: join(root, ACTIVE),
    activeTmp: join(root, `${ACTIVE_TMP_PREFIX}${pid}`),
    state,
    repo: join(state, 'repo.git'),
    records: join(state, 'deployments'),
    logs: join(state, 'logs'),
    activations: join(state, 'activations.jsonl'),
    history: join(state, 'history.jsonl'),
    lockFile: join(root, '.mfd-deploy.lock'),
    cacheLockFile: join(state, 'repo.git.lock'),
    deployment: (name) => join(root, name),
    pruning: (name) => join(root, `${PRUNING_PREFIX}${name}`),
    record: (name) => join(state, 'deployments', `${name}.json`),
    log: (runId) => join(state, 'logs', `${runId}.log`),
  };
}
