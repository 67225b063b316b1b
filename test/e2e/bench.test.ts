import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tmpRoot } from '../helpers/repo.ts';

const RUN = fileURLToPath(new URL('../../bench/run.ts', import.meta.url));
const PROBE = fileURLToPath(new URL('../../bench/rss-probe.cjs', import.meta.url));

// Keeps `npm run bench` from rotting: one quick repetition, checked for every row and ratio.
// It asserts no timing (these machines are noisy), only that every figure was measured.
describe('bench (e2e)', () => {
  test('npm run bench -- --quick measures every row and ratio of issue #6 and writes them as JSON', async (t) => {
    const dir = await tmpRoot(t);
    const out = join(dir, 'results.json');
    // With NODE_EXTRA_CA_CERTS set (one self-signed certificate), so the rows timed with it run too.
    const cert = join(dir, 'ca.pem');
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=mfd bench test', '-keyout', join(dir, 'ca.key'), '-out', cert]);
    const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', RUN, '--quick', '--reps', '1', '--out', out], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, NODE_EXTRA_CA_CERTS: cert },
      maxBuffer: 1 << 24,
    });
    assert.match(run.stdout, /mfd ls \/ node -e 0 +\d+\.\d\dx/);
    const results = JSON.parse(await readFile(out, 'utf8'));
    const [small] = results.results;
    assert.equal(small.fixture.name, 'small.git');
    for (const row of [
      'mfd first deploy', 'mfd incremental deploy (+10 commits)', 'mfd redeploy (reuse)', 'mfd ls', 'mfd ls (single binary)',
      'mfd resolve', 'node -e 0', 'git ls-remote', 'git clone --depth 1 + checkout', 'git clone --depth 1', 'git fetch --depth 1 + archive | tar -x',
      'Go-mfd-like (2 full iso-git clones)',
      ...['mfd first deploy', 'mfd ls', 'mfd resolve', 'node -e 0'].map((row) => `${row} [NODE_EXTRA_CA_CERTS set]`),
    ]) {
      assert.ok(small.medianMs[row] > 0, `${row} was timed`);
      // Peak RSS comes from GNU time; without it node's own figure for the node commands, and
      // the bench says n/a for the rest rather than print a zero.
      if (existsSync('/usr/bin/time') || !/^git |single binary/.test(row)) assert.ok(small.peakRssMiB[row] > 0, `${row} has a peak RSS`);
      else assert.equal(small.peakRssMiB[row], null);
    }
    assert.equal(small.ratios.length, 13);
    assert.equal(results.nodeExtraCaCerts, false, 'the timed commands run without the variable');
    assert.equal(results.alsoWithNodeExtraCaCerts, true);
    for (const r of small.ratios) assert.ok(Number.isFinite(r.ratio) && r.ratio > 0, `${r.measured} / ${r.baseline}`);
    assert.deepEqual(Object.keys(small.stepsMedianMs['mfd first deploy']), ['resolve', 'fetch', 'checkout', 'build', 'activate']);
  });

  test('without GNU time, a node command reports its own peak RSS through bench/rss-probe.cjs', async (t) => {
    const file = join(await tmpRoot(t), 'rss');
    const grow = 'globalThis.keep = Buffer.alloc(64 * 1024 * 1024, 1)';
    await promisify(execFile)(process.execPath, ['--require', PROBE, '-e', grow], { env: { ...process.env, MFD_BENCH_RSS_FILE: file } });
    const kib = Number((await readFile(file, 'utf8')).trim());
    assert.ok(kib > 64 * 1024, `${kib} KiB covers the 64 MiB the process touched`);
  });
});
