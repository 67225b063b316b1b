// The app's loop as `mfd watch` runs it, in-process on a real Context: how a run ended decides
// whether polls back off, and a run that crashed (an error mfd has no class for) failed like any other.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { appFixture, BUILD_COMMANDS } from '../helpers/app.ts';
import { testContext } from '../helpers/context.ts';
import { until } from '../helpers/hold.ts';
import { memoryLockBackend } from '../helpers/memory-lock.ts';
import type { LockBackend } from '../../src/lock/backend.ts';
import { WATCH } from '../../src/commands/watch.ts';

/** A loopback port nothing listens on: a connection to it is refused, for real. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A lock backend whose server is down (as a database-backed one would be): taking a lock tries to
 * connect and fails with the socket's own ECONNREFUSED, an error no mfd class names.
 */
function downBackend(port: number): LockBackend {
  const memory = memoryLockBackend();
  return {
    ...memory,
    acquire: () =>
      new Promise((_resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', reject);
        socket.on('connect', () => reject(new Error(`port ${port} answered: not the down server this test needs`)));
      }),
  };
}

describe('cd/app-loop', () => {
  test('a run that crashes with an error of no mfd class backs the polls off, as any failed run does', async (t) => {
    const app = await appFixture(t, { config: (url) => `[repo]\nurl = "${url}"\n[build]\n${BUILD_COMMANDS}\n[watch]\ninterval = "1s"\n` });
    await app.commitVersion(1);
    const watch = await testContext(app.root, { lockBackend: downBackend(await closedPort()) });
    const running = WATCH.run(watch.ctx, [], {});
    const crash = /^error: internal error in the deploy loop: .*ECONNREFUSED/;
    const lines = () => watch.stderr().split('\n');
    await until(async () => lines().filter((l) => crash.test(l)).length >= 2, 'the poll after the crashed one to crash too').catch((e: Error) => assert.fail(`${e.message}:\n${watch.stderr()}`));
    watch.controller.abort({ signal: 'SIGTERM', hurry: new AbortController().signal });
    await running;
    const first = lines().findIndex((l) => crash.test(l));
    const second = lines().findIndex((l, i) => i > first && crash.test(l));
    const between = lines().slice(first + 1, second);
    assert.ok(between.some((l) => /^warn: backing off: next poll in \d/.test(l)), `no back-off between two crashed polls:\n${lines().join('\n')}`);
  });
});
