// Refuse to fetch or build when the app root's file system is nearly full: a deploy that fills
// the disk can take the running app down with it.
import { statfs } from '../sys/files.ts';
import { DiskSpaceLowError } from '../errors/index.ts';
import { formatSize } from '../config/size.ts';

/** Free bytes (for an unprivileged user) on the file system of `root`, against the floor; changes nothing. */
export async function inspectFreeSpace(root: string, floorBytes: number): Promise<{ free: number; floor: number; ok: boolean }> {
  const stats = await statfs(root);
  const free = stats.bavail * stats.bsize;
  return { free, floor: floorBytes, ok: free >= floorBytes };
}

export async function checkFreeSpace(root: string, floorBytes: number): Promise<void> {
  const { free, ok } = await inspectFreeSpace(root, floorBytes);
  if (!ok) throw new DiskSpaceLowError(root, formatSize(free), formatSize(floorBytes));
}
