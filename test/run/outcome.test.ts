import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HealthCheckFailedError, HealthFailure, InterruptedError, LockHeldError, RestartFailedError,
  RestartRolledBackError, RollbackFailedError, ServerNeedsAttentionError,
} from '../../src/errors/index.ts';
import { outcomeOf } from '../../src/run/outcome.ts';

describe('outcomeOf', () => {
  test('a run\'s outcome follows the class of the error that ended it, not its code', () => {
    const restart = new RestartFailedError('app.service', ['systemctl', 'restart', 'app.service'], 'exit 1', 'journalctl -u app.service');
    assert.equal(outcomeOf(new HealthCheckFailedError('d', 'HTTP 500', 'p', 'logs')), 'rolled-back');
    assert.equal(outcomeOf(new RestartRolledBackError(restart, { name: 'p', sha: 'a'.repeat(40) }, true)), 'rolled-back');
    assert.equal(outcomeOf(new ServerNeedsAttentionError('d', 'x', 'p', 'y', 'logs')), 'needs-attention');
    assert.equal(outcomeOf(new LockHeldError('app', undefined, 0, '/x.lock', 1000, 0)), 'refused');
    assert.equal(outcomeOf(new InterruptedError('SIGINT', 'before activation')), 'interrupted');
    // Same code as a class above, but nothing was rolled back by the run itself.
    assert.equal(outcomeOf(restart), 'failed');
    assert.equal(outcomeOf(new HealthFailure('HTTP 500', 'logs')), 'failed');
    assert.equal(outcomeOf(new RollbackFailedError('a'.repeat(40), new HealthFailure('HTTP 500', 'logs'))), 'failed');
    assert.equal(outcomeOf(new Error('a bug')), 'failed');
  });
});
