// `mfd status` on the commit status markers runs left (src/commands/status.ts), in-process on a
// real Context: a marker whose writer still runs (this test process) and one whose writer is gone.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appFixture } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { STATUS } from '../../src/commands/status.ts';
import { layoutOf } from '../../src/state/layout.ts';
import { writeMarker } from '../../src/status/markers.ts';
import { processStart } from '../../src/sys/process.ts';

const LIVE = 'a'.repeat(40);
const KILLED = 'b'.repeat(40);

describe('status command, commit statuses', () => {
  test('a pending whose writer still runs is "being posted" by its run; one whose writer is gone was left by an interrupted run', async (t) => {
    const app = await appFixture(t);
    const layout = layoutOf(app.root, process.pid);
    const at = new Date().toISOString();
    // The lock is free: the live run has let go of it and is sending its final state.
    await writeMarker(layout, { sha: LIVE, runId: 'run-live', at, pid: process.pid, start: (await processStart(process.pid))! });
    const gone = spawn(process.execPath, ['-e', '']);
    await once(gone, 'exit');
    await writeMarker(layout, { sha: KILLED, runId: 'run-killed', at, pid: gone.pid! });
    const run = await testContext(app.root);
    await STATUS.run(run.ctx, [], {});
    const lines = run.stdout().split('\n').filter((l) => l.startsWith('status:'));
    assert.deepEqual(lines, [
      `status:   pending on ${LIVE.slice(0, 12)} being posted by run run-live (pid ${process.pid}), which is still sending its final state`,
      `status:   pending left on ${KILLED.slice(0, 12)} by run run-killed, which was interrupted; the next deploy or rollback closes it with error`,
    ]);
  });
});
