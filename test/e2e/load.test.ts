// Issue #15's load test, in the suite: the example app behind the shipped socket unit under a real
// systemd --user, clients on fresh connections throughout 10 deploys, one deploy of a commit that
// crashes on start and two manual rollbacks. Nothing may fail, and every answer must name a
// commit that was active at some point. It counts; it never times (bench/load.ts reports waits).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { requireSystemd } from '../helpers/systemd.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { runLoadScenario } from '../../bench/load-scenario.ts';

describe('zero-downtime restarts under load (e2e)', () => {
  test('behind the socket unit nothing is refused, reset or failed across 10 deploys, a crash on start and 2 rollbacks', async (t) => {
    const systemd = await requireSystemd(t);
    if (!systemd) return;
    // Cheap on a shared CI box: paced clients (a few ms between one client's requests), and after
    // three new commits the deploys redeploy those (reused: no fetch, no build, the same restart).
    const result = await runLoadScenario({ mode: 'socket', dir: await tmpRoot(t), systemd, deploys: 10, clients: 4, gapMs: 10, newCommits: 3 });

    const codes = result.runs.map((r) => `${r.kind} ${r.code}`);
    assert.deepEqual(codes, [
      ...Array(5).fill('deploy 0'), 'crash deploy 7', 'rollback 0',
      ...Array(3).fill('deploy 0'), 'rollback 0', ...Array(2).fill('deploy 0'),
    ], result.runs.filter((r) => r.code !== 0).map((r) => r.stderr).join('\n'));
    assert.ok(result.requests > 0 && result.runs.every((r) => r.requests > 0), 'requests were in flight during every run');
    assert.deepEqual(result.failures, {}, `${result.failed} of ${result.requests} requests failed`);
    const unknown = Object.keys(result.answers).filter((sha) => !result.active.includes(sha));
    assert.deepEqual(unknown, [], 'every answer names a commit that was active at some point');

    // The crash: the health check ended on the unit's state, and what waited meanwhile was
    // answered by the deployment put back, whose process accepted it from the socket.
    const crash = result.runs.find((r) => r.kind === 'crash deploy')!;
    assert.match(crash.stderr, /is unhealthy: unit app-\w+ (is waiting to restart|failed|restarted|: the main process)/);
    assert.deepEqual(Object.keys(result.crash.answeredBy), [result.crash.restored]);
  });
});
