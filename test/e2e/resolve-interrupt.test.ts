// `mfd resolve <short sha>` fetches history into .mfd/repo.git under the cache lock. Stopped by a
// signal in the middle of a pack, it must end as every interrupted command does (exit 130 / 143,
// one line, the lock released, no temp pack kept), and what only SIGKILL can leave (a tmp_pack_,
// the lock of a dead process) is cleaned by the next run. In a private pid namespace (TESTING.md §4).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { MFD, mfd } from '../helpers/cli.ts';
import { until } from '../helpers/hold.ts';
import { runInPidNamespace, skipUnlessPidNamespace } from '../helpers/pidns.ts';

const packDir = (app: AppFixture) => join(app.root, '.mfd', 'repo.git', 'objects', 'pack');
const tempPacks = (app: AppFixture) => (existsSync(packDir(app)) ? readdirSync(packDir(app)).filter((n) => n.startsWith('tmp_pack_')) : []);

/**
 * An app whose server, while `hold.on`, sends the first 64 KiB of a fetch's pack, waits until the
 * client has begun to store it (a tmp_pack_ is on disk), stops sending, and then writes
 * `hold.marker`: the moment to send the signal. Waiting, not looking once: a busy client may not
 * have made its file before loopback's buffers take the whole pack.
 */
async function heldApp(t: Parameters<typeof appFixture>[0]): Promise<{ app: AppFixture; hold: { on: boolean; marker: string }; short: string; sha: string }> {
  const hold = { on: true, marker: '' };
  let app!: AppFixture;
  app = await appFixture(t, {
    maxChunk: (entry) => (entry.command === 'fetch' ? 16 * 1024 : undefined),
    beforeChunk: async (entry, sent, res) => {
      if (!hold.on || entry.command !== 'fetch' || sent < 64 * 1024) return;
      await until(async () => tempPacks(app).length > 0, 'the client to store the pack it receives');
      writeFileSync(hold.marker, 'held');
      await once(res, 'close'); // never sends the rest: holds until the client is gone
    },
  });
  hold.marker = join(app.root, '..', 'held');
  // Random bytes do not compress: a pack of about 1 MiB, sent 16 KiB at a time.
  const sha = await app.commitVersion(1, { extra: { 'blob.bin': randomBytes(1024 * 1024).toString('base64') } });
  return { app, hold, short: sha.slice(0, 10), sha };
}

describe('mfd resolve <short sha> interrupted mid-fetch (e2e)', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    test(`${signal} while the pack arrives: exit ${code} with one line, the cache lock released, no temp pack left; the next resolve works`, async (t) => {
      if (await skipUnlessPidNamespace(t)) return;
      const { app, hold, short, sha } = await heldApp(t);
      const r = await runInPidNamespace([
        { op: 'start', id: 'mfd', argv: [process.execPath, MFD, 'resolve', short], cwd: app.root, env: { NO_COLOR: '1' } },
        { op: 'waitFile', path: hold.marker },
        { op: 'signal', id: 'mfd', signal },
        { op: 'exit', id: 'mfd' },
      ]);
      const run = r.results.mfd!;
      assert.equal(run.code, code, `${run.signal ?? ''} ${run.stderr}`);
      assert.match(run.stderr, new RegExp(`^error: interrupted by ${signal} while resolving ${short}$`, 'm'));
      assert.match(run.stderr, /^ {2}hint: /m);
      // resolve runs no commands: its line says what it does instead.
      assert.match(run.stderr, new RegExp(`${signal}: stopping: cutting the transfer$`, 'm'));
      assert.doesNotMatch(run.stderr, /kill running commands/);
      assert.doesNotMatch(run.stderr, /internal error|\n\s+at /);
      assert.equal(run.stdout, '');
      assert.deepEqual(r.leftover, []);
      assert.equal(existsSync(join(app.root, '.mfd', 'repo.git.lock')), false, 'the cache lock is released');
      assert.deepEqual(tempPacks(app), [], 'the pack cut short is not kept');

      hold.on = false;
      const again = await mfd(['resolve', short], { cwd: app.root });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout.trim(), sha);
      assert.doesNotMatch(again.stderr, /stale/);
    });
  }

  test('SIGKILL mid-pack leaves a tmp_pack_ and a dead holder\'s lock: the next resolve takes the lock over, removes the temp pack and resolves', async (t) => {
    if (await skipUnlessPidNamespace(t)) return;
    const { app, hold, short, sha } = await heldApp(t);
    const r = await runInPidNamespace([
      { op: 'start', id: 'mfd', argv: [process.execPath, MFD, 'resolve', short], cwd: app.root, env: { NO_COLOR: '1' } },
      { op: 'waitFile', path: hold.marker },
      { op: 'signal', id: 'mfd', signal: 'SIGKILL' },
      { op: 'exit', id: 'mfd' },
    ]);
    assert.equal(r.results.mfd!.signal, 'SIGKILL');
    const left = tempPacks(app);
    assert.equal(left.length, 1, 'a kill mid-pack leaves its temp pack');
    assert.equal(existsSync(join(app.root, '.mfd', 'repo.git.lock')), true, 'and the lock of a process that is gone');

    hold.on = false;
    const again = await mfd(['resolve', short], { cwd: app.root });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), sha);
    assert.deepEqual(tempPacks(app), [], 'the next resolve removed it');
    assert.equal(existsSync(join(app.root, '.mfd', 'repo.git.lock')), false);
  });
});
