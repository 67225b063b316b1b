// Refuse to fetch or build when the app root's file system is nearly full: a deploy that fills
// the disk can take the running app down with it.
import { statfs } from 'node:fs/promises';
import { DiskSpaceLowError } from '../errors/index.ts';
import { formatSize } from '../config/size.ts';

export async function checkFreeSpace(root: string, floorBytes: number): Promise<void> {
  const stats = await statfs(root);
  const free = stats.bavail * stats.bsize;
  if (free < floorBytes) throw new DiskSpaceLowError(root, formatSize(free), formatSize(floorBytes));
}
