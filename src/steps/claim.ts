// A new deployment's name and directory: one that nothing in the root has (no directory, link,
// file or record), so mfd never removes or reuses an existing directory as a new deployment.
import { lstat, mkdir } from '../sys/files.ts';
import { formatDeploymentName } from '../state/deployment.ts';
import { CheckoutFailedError, worldFsError } from '../errors/index.ts';
import type { Layout } from '../state/layout.ts';
import { isNotFound, removeRecord } from '../state/record.ts';

/**
 * Creates the directory of a new deployment of `sha` and returns its name, `mfd_<unix>_<sha>`
 * for the first second from `seconds` on that is free. A redeploy of one sha within one second
 * (changed build commands) thus takes the next second: names stay unique and in creation order,
 * and nobody waits. `writeRecord` is called with the name before the directory is made, so a kill
 * at any later point is found by recover() (a directory without a record is adopted as Go mfd's).
 */
export async function claimDeployment(
  layout: Layout,
  seconds: number,
  sha: string,
  writeRecord: (name: string) => Promise<void>,
): Promise<string> {
  for (let s = Math.floor(seconds); ; s++) {
    const name = formatDeploymentName(s, sha);
    if ((await taken(layout.deployment(name))) || (await taken(layout.record(name)))) continue;
    await writeRecord(name);
    try {
      // Not recursive: EEXIST is the answer that matters, and mkdir(2) gives it atomically.
      await mkdir(layout.deployment(name));
      return name;
    } catch (error) {
      // The record is ours (the name had none); the directory, if there is one, is not.
      await removeRecord(layout, name);
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      // A full disk or a root-owned app root is the world's, said as such (exit 9, 10).
      throw worldFsError(error) ?? new CheckoutFailedError(sha, layout.deployment(name), (error as NodeJS.ErrnoException).code ?? String(error), error);
    }
  }
}

async function taken(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
