import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { appendHistory, HISTORY_KEEP, readHistory, trimHistory, type HistoryEntry } from '../../src/state/history.ts';
import { layoutOf } from '../../src/state/layout.ts';
import { ACTIVATIONS_KEEP, appendActivation, readActivations, trimActivations, writeRecord } from '../../src/state/record.ts';
import { tmpRoot } from '../helpers/repo.ts';

const AT = '2026-01-01T00:00:00.000Z';

/** The run id runlog.ts gives the n-th run: its UTC time first, so ids sort in time order. */
const runId = (n: number) => `${new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-deploy-1`;

function entry(n: number): HistoryEntry {
  return {
    runId: runId(n), command: 'deploy', user: 'u', ref: 'main', sha: 'a'.repeat(40), deployment: null,
    start: AT, end: AT, steps: [], outcome: 'success', error: null, log: '',
  };
}

async function history(t: Parameters<typeof tmpRoot>[0], runs: number) {
  const layout = layoutOf(await tmpRoot(t), process.pid);
  await mkdir(layout.logs, { recursive: true });
  // A line torn by a kill sits among the old ones.
  const lines = Array.from({ length: runs }, (_, n) => (n === 5 ? '{"runId": "torn' : JSON.stringify(entry(n))));
  await writeFile(layout.history, `${lines.join('\n')}\n`);
  for (let n = 0; n < runs; n++) await writeFile(layout.log(runId(n)), `run ${n}\n`);
  return layout;
}

describe('history', () => {
  test('a line with a trigger reads back with it, and a line written before triggers existed still reads back', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.state, { recursive: true });
    const old = JSON.stringify(entry(0));
    const withTrigger = JSON.stringify({ ...entry(1), trigger: 'webhook 7a1f' });
    await writeFile(layout.history, `${old}\n${withTrigger}\n`);
    const warnings: string[] = [];
    const [newest, oldest] = await readHistory(layout, (m) => warnings.push(m));
    assert.deepEqual(warnings, []);
    assert.equal(newest?.trigger, 'webhook 7a1f');
    assert.equal(oldest?.trigger, undefined);
    assert.equal(oldest?.runId, runId(0));
  });

  test('a line naming the build commands it reused reads back with them; one without the field (older, or nothing reused) has none', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.state, { recursive: true });
    const reused = [{ command: 0, argv: ['npm', 'ci'], from: `mfd_1764590000_${'a'.repeat(40)}`, outputs: ['node_modules'] }];
    const bad = { ...entry(2), reused: [{ command: -1, argv: 'npm ci', from: 'x', outputs: [] }] };
    await writeFile(layout.history, `${JSON.stringify(entry(0))}\n${JSON.stringify({ ...entry(1), reused })}\n${JSON.stringify(bad)}\n`);
    const warnings: string[] = [];
    const [newest, oldest] = await readHistory(layout, (m) => warnings.push(m));
    assert.deepEqual(newest?.reused, reused);
    assert.equal(oldest?.reused, undefined);
    assert.equal(warnings.length, 1, 'a malformed reused field is a line skipped with a warning, like any other');
  });

  test('an append after a line a full disk cut short ends that line first: only the torn line is lost, never the next run', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.state, { recursive: true });
    // What ENOSPC can leave: the start of a line, no newline.
    await writeFile(layout.history, `${JSON.stringify(entry(0))}\n{"runId": "20260101T0`);
    await appendHistory(layout, entry(1));
    await appendHistory(layout, entry(2));
    const warnings: string[] = [];
    assert.deepEqual((await readHistory(layout, (m) => warnings.push(m))).map((e) => e.runId), [runId(2), runId(1), runId(0)]);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /history\.jsonl:2: skipped a line that is not JSON/);
    // An intact file gets no blank line; an empty or missing one no leading newline.
    assert.equal((await readFile(layout.history, 'utf8')).split('\n').filter((l) => l === '').length, 1);
    const fresh = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(fresh.state, { recursive: true });
    await appendActivation(fresh, { name: 'mfd_1_' + 'a'.repeat(40), sha: 'a'.repeat(40), at: AT, command: 'deploy' });
    assert.equal(await readFile(fresh.activations, 'utf8'), `${JSON.stringify({ name: 'mfd_1_' + 'a'.repeat(40), sha: 'a'.repeat(40), at: AT, command: 'deploy' })}\n`);
  });

  test('a history file that is a symbolic link is never written through', async (t) => {
    const root = await tmpRoot(t);
    const layout = layoutOf(root, process.pid);
    await mkdir(layout.state, { recursive: true });
    const elsewhere = `${root}/elsewhere.txt`;
    await writeFile(elsewhere, 'not mfd\'s\n');
    await symlink(elsewhere, layout.history);
    await assert.rejects(appendHistory(layout, entry(1)), (e: NodeJS.ErrnoException) => e.code === 'ELOOP');
    assert.equal(await readFile(elsewhere, 'utf8'), 'not mfd\'s\n');
  });

  test('up to twice HISTORY_KEEP runs, nothing is trimmed', async (t) => {
    const layout = await history(t, 2 * HISTORY_KEEP);
    const before = await readFile(layout.history, 'utf8');
    assert.deepEqual(await trimHistory(layout), { dropped: 0, logsRemoved: 0 });
    assert.equal(await readFile(layout.history, 'utf8'), before);
  });

  test('past that, the newest HISTORY_KEEP runs stay, with their logs and any log a deployment still names', async (t) => {
    const runs = 2 * HISTORY_KEEP + 1;
    const layout = await history(t, runs);
    // A deployment built long ago is still on disk: its build log must survive.
    const kept = `mfd_1_${'b'.repeat(40)}`;
    await mkdir(layout.deployment(kept));
    await writeRecord(layout, {
      name: kept, sha: 'b'.repeat(40), ref: 'main', fingerprint: 'f', state: 'healthy',
      createdAt: AT, updatedAt: AT, pid: 1, runId: runId(3),
    });
    // A build that failed long ago: its directory went at once, its record and log go now.
    const failed = `mfd_2_${'c'.repeat(40)}`;
    await writeRecord(layout, {
      name: failed, sha: 'c'.repeat(40), ref: 'main', fingerprint: 'f', state: 'failed',
      createdAt: AT, updatedAt: AT, runId: runId(4),
    });
    assert.deepEqual(await trimHistory(layout), { dropped: runs - HISTORY_KEEP, logsRemoved: runs - HISTORY_KEEP - 1 });
    const left = await readHistory(layout);
    assert.equal(left.length, HISTORY_KEEP);
    assert.equal(left[0]!.runId, runId(runs - 1), 'newest first, the newest kept');
    assert.equal(left.at(-1)!.runId, runId(runs - HISTORY_KEEP));
    assert.equal(existsSync(layout.record(kept)), true);
    assert.equal(existsSync(layout.record(failed)), false);
    assert.equal(existsSync(layout.log(runId(4))), false);
    assert.equal(existsSync(layout.log(runId(runs - HISTORY_KEEP))), true);
    assert.equal(existsSync(layout.log(runId(runs - HISTORY_KEEP - 1))), false);
    assert.equal(existsSync(layout.log(runId(3))), true, 'a log a record names is kept');
  });

  test('a kept run that sorts before the oldest kept one (same second) keeps its log', async (t) => {
    const runs = 2 * HISTORY_KEEP + 1;
    const layout = await history(t, runs);
    // The two oldest kept runs started in the same second: "…-rollback-9" sorts after "…-deploy-8".
    const first = runs - HISTORY_KEEP;
    const stamp = runId(first).split('-')[0];
    const [a, b] = [`${stamp}-rollback-9`, `${stamp}-deploy-8`];
    const lines = (await readFile(layout.history, 'utf8')).trim().split('\n');
    lines[first] = JSON.stringify({ ...entry(first), runId: a });
    lines[first + 1] = JSON.stringify({ ...entry(first + 1), runId: b });
    await writeFile(layout.history, `${lines.join('\n')}\n`);
    await Promise.all([writeFile(layout.log(a), 'a\n'), writeFile(layout.log(b), 'b\n')]);
    await trimHistory(layout);
    assert.equal(existsSync(layout.log(a)), true);
    assert.equal(existsSync(layout.log(b)), true);
  });

  test('a crafted history line cannot widen what is removed, and only files of a run log\'s own name ever are', async (t) => {
    const runs = 2 * HISTORY_KEEP + 1;
    const layout = await history(t, runs);
    const first = runs - HISTORY_KEEP;
    // The oldest kept lines name no run of mfd's shape: an object, and a string that sorts after every run id.
    const lines = (await readFile(layout.history, 'utf8')).trim().split('\n');
    lines[first] = JSON.stringify({ ...entry(first), runId: {} });
    lines[first + 1] = JSON.stringify({ ...entry(first + 1), runId: '~' });
    await writeFile(layout.history, `${lines.join('\n')}\n`);
    // The log of the run trimming now (its line is written when it ends), and files that are no run's log.
    const running = `${runId(runs + 1).split('-')[0]}-deploy-77`;
    const strangers = ['.log', '0.log', '0-notes.log', `${runId(0)}.log.bak`, `${runId(0)}-extra-part.log`];
    await writeFile(layout.log(running), 'running\n');
    for (const name of strangers) await writeFile(`${layout.logs}/${name}`, 'not a run log\n');
    await mkdir(`${layout.logs}/${runId(1)}-2.log`);
    // A failed build's record whose run is still in the history, by a line newer than the crafted ones.
    const failed = `mfd_2_${'c'.repeat(40)}`;
    await writeRecord(layout, {
      name: failed, sha: 'c'.repeat(40), ref: 'main', fingerprint: 'f', state: 'failed', createdAt: AT, updatedAt: AT, runId: `${runId(first + 5).split('-')[0]}-deploy-5`,
    });

    const result = await trimHistory(layout);
    assert.equal(result.dropped, runs - HISTORY_KEEP);
    assert.equal(existsSync(layout.log(running)), true, 'the log of a run newer than every kept line stays');
    for (const name of strangers) assert.equal(existsSync(`${layout.logs}/${name}`), true, name);
    assert.equal(existsSync(`${layout.logs}/${runId(1)}-2.log`), true, 'a directory is never removed');
    assert.equal(existsSync(layout.record(failed)), true, 'a record newer than the oldest real kept run stays');
    // What the kept lines no longer name, and what the dropped ones did, goes as before.
    assert.equal(existsSync(layout.log(runId(first - 1))), false);
    assert.equal(existsSync(layout.log(runId(first + 2))), true);
    assert.equal(result.logsRemoved, runs - HISTORY_KEEP + 2, 'the dropped runs\' logs, and those of the two lines that no longer name theirs');
  });

  test('activations.jsonl keeps its newest ACTIVATIONS_KEEP lines once it holds twice that', async (t) => {
    const layout = layoutOf(await tmpRoot(t), process.pid);
    await mkdir(layout.state, { recursive: true });
    const line = (n: number) => JSON.stringify({ name: `mfd_${n}_${'a'.repeat(40)}`, sha: 'a'.repeat(40), at: AT, command: 'deploy' });
    const write = (count: number) => writeFile(layout.activations, `${Array.from({ length: count }, (_, n) => line(n)).join('\n')}\n`);
    await write(2 * ACTIVATIONS_KEEP);
    assert.equal(await trimActivations(layout), 0);
    assert.equal((await readActivations(layout)).length, 2 * ACTIVATIONS_KEEP);
    await write(2 * ACTIVATIONS_KEEP + 1);
    assert.equal(await trimActivations(layout), ACTIVATIONS_KEEP + 1);
    const left = await readActivations(layout);
    assert.equal(left.length, ACTIVATIONS_KEEP);
    assert.equal(left.at(-1)!.name, `mfd_${2 * ACTIVATIONS_KEEP}_${'a'.repeat(40)}`, 'oldest first, the newest kept');
  });
});
