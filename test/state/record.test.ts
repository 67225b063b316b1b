import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { readHistory, type HistoryEntry } from '../../src/state/history.ts';
import { layoutOf } from '../../src/state/layout.ts';
import { processStart } from '../../src/sys/process.ts';
import { listDeployments, readActivations, readAllRecords, readRecords, RECORDS_PER_TURN, type DeploymentRecord } from '../../src/state/record.ts';
import { validateRecord } from '../../src/state/record-schema.ts';
import { isInterrupted } from '../../src/run/recover.ts';
import { tmpRoot } from '../helpers/repo.ts';

const AT = '2026-01-01T00:00:00.000Z';
const SHA = 'a'.repeat(40);
const NAME = `mfd_1767225600_${SHA}`;
const good: DeploymentRecord = {
  name: NAME, sha: SHA, ref: 'main', fingerprint: 'f', state: 'building', createdAt: AT, updatedAt: AT,
  pid: 4242, pidStart: '123', runId: '20260101T000000Z-deploy-4242', buildPgid: 4243, buildPgidStart: '124',
};
const why = (name: string, value: unknown) => {
  const r = validateRecord(name, JSON.stringify(value));
  return r.ok ? 'ok' : r.why;
};

describe('deployment records read back', () => {
  test('a well-formed record that names its own file is accepted', () => {
    assert.equal(why(NAME, good), 'ok');
    assert.equal(why(NAME, { ...good, futureField: 1 }), 'ok', 'fields of a newer mfd are no reason to distrust it');
  });

  test('a record that is not JSON, not an object, or not what mfd writes is refused with the reason', () => {
    assert.equal(validateRecord(NAME, '{"name": "mfd_').ok, false);
    for (const [value, reason] of [
      [null, /expected object|invalid type/],
      [[], /expected object|invalid type/],
      [{ ...good, name: `mfd_1_${'b'.repeat(40)}`, sha: 'b'.repeat(40) }, /names mfd_1_b+, not mfd_/],
      [{ ...good, sha: 'b'.repeat(40) }, /sha b+ is not the one in its name/],
      [{ ...good, sha: 'A'.repeat(40) }, /^sha: expected 40 hex digits/],
      [{ ...good, sha: SHA.slice(1) }, /^sha: /],
      [{ ...good, name: '../../etc' }, /^name: expected mfd_<unix>_<sha>/],
      [{ ...good, state: 'exploded' }, /^state: /],
      [{ ...good, buildPgid: 0 }, /^buildPgid: /],
      [{ ...good, buildPgid: -1 }, /^buildPgid: /],
      [{ ...good, buildPgid: 'abc' }, /^buildPgid: /],
      [{ ...good, buildPgid: 1.5 }, /^buildPgid: /],
      [{ ...good, pid: -1 }, /^pid: /],
      [{ ...good, buildPgidStart: 12 }, /^buildPgidStart: /],
      [{ ...good, runId: '../../../etc/passwd' }, /^runId: /],
      [{ ...good, createdAt: 'yesterday' }, /^createdAt: expected an ISO date/],
    ] as const) {
      assert.match(why(NAME, value), reason, JSON.stringify(value));
    }
  });

  test('an invalid record is skipped with a warning, and its directory is neither adopted nor trusted', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.records, { recursive: true });
    const other = `mfd_1767225601_${'c'.repeat(40)}`;
    await mkdir(layout.deployment(NAME));
    await mkdir(layout.deployment(other));
    await writeFile(layout.record(NAME), JSON.stringify({ ...good, buildPgid: -1 }));
    await writeFile(layout.record(other), 'null');
    const warnings: string[] = [];
    const list = await listDeployments(layout, { now: Date.now(), onWarning: (m) => warnings.push(m) });
    assert.deepEqual(list.map((d) => [d.name, d.state, d.record]), [[other, 'invalid', undefined], [NAME, 'invalid', undefined]]);
    assert.equal(warnings.length, 2);
    assert.match(warnings.join('\n'), /ignored .*mfd_1767225600_a+\.json: buildPgid: /);
    assert.equal((await readRecords(layout)).size, 0);
  });
});

describe('JSON-lines files read back', () => {
  test('activations.jsonl: null, torn, non-object and invalid lines are skipped with a warning each', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.state, { recursive: true });
    const ok = { name: NAME, sha: SHA, at: AT, command: 'deploy' };
    await writeFile(layout.activations, [JSON.stringify(ok), 'null', '42', '"x"', '{"name": "mfd_', JSON.stringify({ ...ok, command: 'oops' }), JSON.stringify(ok), ''].join('\n'));
    const warnings: string[] = [];
    const list = await readActivations(layout, (m) => warnings.push(m));
    assert.deepEqual(list, [ok, ok]);
    assert.equal(warnings.length, 5);
    assert.match(warnings[0]!, /activations\.jsonl:2: skipped an invalid line/);
    assert.match(warnings[3]!, /activations\.jsonl:5: skipped a line that is not JSON/);
  });

  test('history.jsonl: the same, and a run id that is a path is never trusted', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.state, { recursive: true });
    const ok: HistoryEntry = {
      runId: '20260101T000000Z-deploy-1', command: 'deploy', user: 'u', ref: 'main', sha: SHA, deployment: NAME,
      start: AT, end: AT, steps: [{ step: 'build', ms: 3, ok: true }], outcome: 'success', error: null, log: 'x.log',
    };
    await writeFile(layout.history, [JSON.stringify(ok), 'null', JSON.stringify({ ...ok, runId: '../../secret' }), '{"runId":'].join('\n'));
    const warnings: string[] = [];
    assert.deepEqual(await readHistory(layout, (m) => warnings.push(m)), [ok]);
    assert.equal(warnings.length, 3);
  });
});

describe('interrupted builds', () => {
  test('a building record is interrupted once its deploy is gone or its pid belongs to another process', async () => {
    const c = spawn(process.execPath, ['-e', 'process.stdin.resume(); process.stdin.on("end", () => process.exit(0))'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const start = await processStart(c.pid!);
    const live = { ...good, pid: c.pid!, pidStart: start! };
    assert.equal(await isInterrupted(live, process.pid), false);
    assert.equal(await isInterrupted({ ...live, pidStart: String(Number(start) + 1) }, process.pid), true, 'a reused pid');
    assert.equal(await isInterrupted({ ...live, pidStart: undefined }, process.pid), false, 'a record from before start times: alive counts');
    assert.equal(await isInterrupted({ ...live, pid: 1 }, process.pid), true);
    assert.equal(await isInterrupted({ ...live, pid: process.pid }, process.pid), true, 'our own pid builds nothing');
    assert.equal(await isInterrupted({ ...live, state: 'built' }, process.pid), false);
    const exited = once(c, 'exit');
    c.stdin!.end();
    await exited;
    assert.equal(await isInterrupted(live, process.pid), true);
  });
});

describe('many records', () => {
  test('reading them gives the event loop a turn every RECORDS_PER_TURN records, and none for a handful', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.records, { recursive: true });
    const write = async (from: number, to: number) => {
      for (let n = from; n < to; n++) {
        const name = `mfd_${1_767_225_600 + n}_${SHA}`;
        await writeFile(layout.record(name), JSON.stringify({ ...good, name, state: 'failed', pid: undefined, pidStart: undefined }));
      }
    };
    // The reads settle as microtasks (sys/files.ts): the ticker's turns are the reader's own.
    const turnsDuring = async (work: () => Promise<unknown>) => {
      let turns = 0;
      let counting = true;
      const tick = () => {
        if (!counting) return;
        turns++;
        setImmediate(tick);
      };
      setImmediate(tick);
      await work();
      counting = false;
      return turns;
    };
    await write(0, 5);
    assert.equal(await turnsDuring(() => listDeployments(layout, { now: Date.now() })), 0, '`mfd ls` reads its few records as it did');
    await write(5, 2000);
    const records = await readAllRecords(layout);
    assert.equal(records.valid.size, 2000);
    // Read in one go, 2,000 records held mfd serve's loop some 55 ms per read, twice per page view.
    assert.equal(await turnsDuring(() => readAllRecords(layout)), Math.floor(2000 / RECORDS_PER_TURN));
  });
});
