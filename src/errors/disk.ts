// The disk check before a fetch or build (exit 9): too little free space to start. A write that hits
// a full disk midway is fs.ts's DiskFullError.
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
