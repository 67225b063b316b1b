// The disk check before a fetch or build (exit 9): too little free space to start. A write that hits
// a full disk midway is fs.ts's DiskFullError; one of mfd's own output (stdout), OutputDiskFullError.
import { dirname } from 'node:path';
import { EXIT, MfdError } from './base.ts';

export class DiskSpaceLowError extends MfdError {
  readonly code = 'DISK_SPACE_LOW';
  readonly exitCode = EXIT.disk;
  constructor(readonly root: string, readonly free: string, readonly floor: string) {
    super(`only ${free} free on the file system of ${root}, below the floor of ${floor}: not fetching or building`, {
      hint: 'free some space (old deployments: "mfd ls"; other files: du -sh), or lower [deploy] min_free',
    });
  }
}

/**
 * ENOSPC / EDQUOT writing mfd's own output (`mfd ls > /full/out`): the result is lost, so the
 * command fails, naming where stdout goes (`file` undefined when that cannot be read).
 */
export class OutputDiskFullError extends MfdError {
  readonly code = 'OUTPUT_DISK_FULL';
  readonly exitCode = EXIT.disk;
  constructor(readonly errno: string, readonly file: string | undefined, cause?: unknown) {
    super(`cannot write mfd's output to ${file ?? 'its destination'} (stdout): ${errno === 'EDQUOT' ? 'disk quota exceeded' : 'no space left on device'} (${errno})`, {
      cause,
      // Only the result goes to stdout, once the command's work is done: a deploy has deployed.
      hint: `only the output is lost, the command ran (mfd ls and mfd history show what it did); free space on that file system${file ? ` (df -h ${dirname(file)})` : ''}, or send the output elsewhere`,
    });
  }
}
