// A deployment is one directory `mfd_<unix seconds>_<40-hex sha>` in the app root (Go mfd's name).
// Pure: parse, format, order. State comes from records (record.ts); a dir without one is adopted as good.

export type DeploymentState = 'building' | 'built' | 'active' | 'failed';

export interface DeploymentName {
  name: string;
  createdAt: number; // unix seconds
  sha: string;
}

const NAME = /^mfd_(\d+)_([0-9a-f]{40})$/;

export function parseDeploymentName(name: string): DeploymentName | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  return { name, createdAt: Number(m[1]), sha: m[2]! };
}

export function formatDeploymentName(createdAt: number, sha: string): string {
  return `mfd_${Math.floor(createdAt)}_${sha}`;
}

/** Newest first; on equal seconds the name breaks the tie so the order is stable. */
export function sortNewestFirst<T extends DeploymentName>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => b.createdAt - a.createdAt || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
}
