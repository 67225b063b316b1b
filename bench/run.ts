// `npm run bench`: mfd against native git (and a Go-mfd-like path) doing the same work on the same
// loopback repositories, side by side in one run; medians and ratios, never a pass/fail threshold.
// Options: --reps N (default 5), --quick (small fixture only), --fixtures small,large,express
// (default all three), --out FILE (default bench/results/latest.json), --keep-env (time every
// command with NODE_EXTRA_CA_CERTS as this environment sets it; see TIMED_ENV), --rtt MS (mfd and
// git reach the server through a proxy that adds MS of round trip, bench/latency.ts).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGitServer } from '../test/helpers/git-server.ts';
import { buildFixture, EXPRESS, LARGE, SMALL, type FixtureSpec } from './fixture.ts';
import { startLatencyProxy } from './latency.ts';

const MFD = fileURLToPath(new URL('../dist/mfd.cjs', import.meta.url));
const GOMFD = fileURLToPath(new URL('./gomfd-like.mjs', import.meta.url));
const PACKAGE = fileURLToPath(new URL('../scripts/package.mjs', import.meta.url));
/**
 * GNU time reports a child's peak RSS. Without it (Debian package `time`) the node commands (mfd,
 * `node -e 0`, the Go-mfd-like script) report their own through bench/rss-probe.cjs, and the
 * others (git, the single binary) as null.
 */
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const RSS_PROBE = fileURLToPath(new URL('./rss-probe.cjs', import.meta.url));
const args = process.argv.slice(2);
const reps = Number(args[args.indexOf('--reps') + 1]) || 5;
const quick = args.includes('--quick');
const ALL = [SMALL, LARGE, EXPRESS];
const fixtures = quick ? [SMALL] : args.includes('--fixtures')
  ? args[args.indexOf('--fixtures') + 1]!.split(',').map((n) => ALL.find((f) => f.name === `${n}.git`) ?? fail(`no fixture ${n}`))
  : ALL;
function fail(message: string): never {
  throw new Error(message);
}
const rttMs = args.includes('--rtt') ? Number(args[args.indexOf('--rtt') + 1]) : 0;
if (!(rttMs >= 0)) throw new Error('--rtt takes a round trip in milliseconds');
const outFile = args.includes('--out') ? args[args.indexOf('--out') + 1]! : fileURLToPath(new URL('./results/latest.json', import.meta.url));

/**
 * The environment of every timed command, mfd's, node's and git's alike: this one without
 * NODE_EXTRA_CA_CERTS, which makes every Node process parse that certificate bundle as it starts
 * (on the machines of 2026-12-01, whose environment sets it: `node -e 0` 0.13 s of CPU instead
 * of 0.04 s). A server normally does not set it; one that does pays that on every mfd command.
 * `--keep-env` times with the environment as it is.
 */
const TIMED_ENV: NodeJS.ProcessEnv = args.includes('--keep-env') ? process.env : Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'));
/**
 * When this environment sets NODE_EXTRA_CA_CERTS (and --keep-env is not given), the start-up rows
 * are also timed with it, suffixed CA_SET, so one run shows both: the issues' targets against
 * `node -e 0` were set on machines whose environment sets it.
 */
const CA_ENV: NodeJS.ProcessEnv | undefined = !args.includes('--keep-env') && process.env.NODE_EXTRA_CA_CERTS !== undefined ? process.env : undefined;
const CA_SET = ' [NODE_EXTRA_CA_CERTS set]';

interface Sample { ms: number; rssKiB: number | null }

/**
 * Runs argv once (cwd given), returning wall time and peak RSS; throws on a non-zero exit. Unless
 * `settle` is false, first waits for the disk to take what earlier commands wrote (`sync`), so no
 * row pays for the previous row's writeback: on this kind of machine a deploy started while the
 * kernel flushes a just-removed repetition took 0.4 s to check out instead of 0.05 s.
 */
async function once(argv: string[], cwd: string, settle = true, env = TIMED_ENV): Promise<Sample> {
  if (settle) spawnSync('sync');
  const rssFile = join(tmpdir(), `mfd-bench-rss-${process.pid}`);
  await rm(rssFile, { force: true });
  const probed = !TIME && argv[0] === process.execPath;
  const full = TIME ? [TIME, '-f', '%M', '-o', rssFile, ...argv] : probed ? [argv[0]!, '--require', RSS_PROBE, ...argv.slice(1)] : argv;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...env, NO_COLOR: '1', MFD_BENCH_RSS_FILE: rssFile } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited ${code}: ${err.slice(-500)}`))));
  });
  const ms = performance.now() - started;
  const rss = TIME || probed ? Number((await readFile(rssFile, 'utf8')).trim().split('\n').at(-1)) : NaN;
  return { ms, rssKiB: Number.isFinite(rss) ? rss : null };
}

/** A sequence of commands timed as one unit of work (settled once, before the first). */
async function seq(steps: [string[], string][]): Promise<Sample> {
  let ms = 0;
  let rss: number | null = null;
  for (const [i, [argv, cwd]] of steps.entries()) {
    const s = await once(argv, cwd, i === 0);
    ms += s.ms;
    rss = s.rssKiB === null ? rss : Math.max(rss ?? 0, s.rssKiB);
  }
  return { ms, rssKiB: rss };
}

interface HistoryEntry { steps: { step: string; ms: number }[] }
/** The deploys of one repetition, in the order they run (and appear in history.jsonl). */
const DEPLOYS = ['mfd first deploy', 'mfd incremental deploy (+10 commits)', 'mfd redeploy (reuse)'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function fixtureRows(work: string, spec: FixtureSpec, url: string, shas: string[], bin: string) {
  const base = shas.at(-11)!;
  const ahead = shas.at(-1)!;
  const mfd = (...a: string[]) => [process.execPath, MFD, '--ci', ...a];
  const samples: Record<string, Sample[]> = {};
  const stepSamples: Record<string, Record<string, number[]>> = {};
  const add = (k: string, s: Sample) => (samples[k] ??= []).push(s);
  // One build command that does nothing, as issue #14 measured: a deploy pays for spawning it.
  const config = `[repo]\nurl = "${url}"\n[build]\ncommands = [["true"]]\n`;
  const trash = join(work, 'trash');
  await mkdir(trash, { recursive: true });
  for (let r = 0; r < reps; r++) {
    const dir = await mkdtemp(join(work, 'rep-'));
    const app = join(dir, 'app');
    await mkdir(app);
    await writeFile(join(app, 'mfd.toml'), config);
    add('mfd first deploy', await once(mfd('deploy', base), app));
    add('mfd incremental deploy (+10 commits)', await once(mfd('deploy', ahead), app));
    add('mfd redeploy (reuse)', await once(mfd('deploy', base), app));
    // Where each deploy's time went, by step, from mfd's own run history.
    const runs = (await readFile(join(app, '.mfd', 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as HistoryEntry);
    runs.forEach((run, i) => {
      for (const st of run.steps) (stepSamples[DEPLOYS[i]!] ??= {})[st.step] = [...(stepSamples[DEPLOYS[i]!]?.[st.step] ?? []), st.ms];
    });
    add('mfd ls', await once(mfd('ls'), app));
    add('mfd ls (single binary)', await once([bin, '--ci', 'ls'], app));
    add('mfd resolve', await once(mfd('resolve', 'main'), app));
    add('node -e 0', await once([process.execPath, '-e', '0'], app));
    add('git ls-remote', await once(['git', 'ls-remote', url, 'main'], dir));
    const nat = join(dir, 'native');
    await mkdir(nat);
    add('git clone --depth 1 + checkout', await seq([
      [['git', 'init', '-q'], nat],
      [['git', 'fetch', '-q', '--depth', '1', url, base], nat],
      [['git', '-c', 'advice.detachedHead=false', 'checkout', '-q', 'FETCH_HEAD'], nat],
    ]));
    add('git clone --depth 1', await once(['git', 'clone', '-q', '--depth', '1', '--no-tags', url, join(dir, 'clone')], dir));
    const out = join(dir, 'native-archive');
    await mkdir(out);
    add('git fetch --depth 1 + archive | tar -x', await seq([
      [['git', 'fetch', '-q', '--depth', '1', url, ahead], nat],
      [['sh', '-c', `git archive ${ahead} | tar -x -C ${out}`], nat],
    ]));
    if (r < Math.min(reps, 3)) add('Go-mfd-like (2 full iso-git clones)', await once([process.execPath, GOMFD, url, join(dir, 'gomfd')], dir));
    if (CA_ENV) {
      const caApp = join(dir, 'app-ca');
      await mkdir(caApp);
      await writeFile(join(caApp, 'mfd.toml'), config);
      add(`mfd first deploy${CA_SET}`, await once(mfd('deploy', base), caApp, true, CA_ENV));
      add(`mfd ls${CA_SET}`, await once(mfd('ls'), app, true, CA_ENV));
      add(`mfd resolve${CA_SET}`, await once(mfd('resolve', 'main'), app, true, CA_ENV));
      add(`node -e 0${CA_SET}`, await once([process.execPath, '-e', '0'], app, true, CA_ENV));
    }
    // Moved aside, removed only after the last timed command: on a disk mounted with `discard` an
    // `rm -rf` slows the file creation of whatever runs next, mfd and git alike.
    await rename(dir, join(trash, basename(dir)));
  }
  const m = (k: string) => median(samples[k]!.map((s) => s.ms));
  const rss = (k: string): number | null => {
    const known = samples[k]!.flatMap((s) => (s.rssKiB === null ? [] : [s.rssKiB]));
    return known.length === 0 ? null : Math.max(...known) / 1024;
  };
  const pairs: [string, string][] = [
    ['mfd ls', 'node -e 0'],
    ['mfd ls (single binary)', 'mfd ls'],
    ['mfd ls (single binary)', 'node -e 0'],
    ['mfd resolve', 'node -e 0'],
    ['mfd resolve', 'git ls-remote'],
    ['mfd first deploy', 'git clone --depth 1 + checkout'],
    ['mfd first deploy', 'git clone --depth 1'],
    ['mfd incremental deploy (+10 commits)', 'git fetch --depth 1 + archive | tar -x'],
    ['mfd redeploy (reuse)', 'mfd ls'],
    ['Go-mfd-like (2 full iso-git clones)', 'mfd first deploy'],
    ...(CA_ENV ? [
      [`mfd ls${CA_SET}`, `node -e 0${CA_SET}`],
      [`mfd resolve${CA_SET}`, `node -e 0${CA_SET}`],
      [`mfd first deploy${CA_SET}`, 'git clone --depth 1'],
    ] as [string, string][] : []),
  ];
  return {
    fixture: spec,
    medianMs: Object.fromEntries(Object.keys(samples).map((k) => [k, m(k)])),
    peakRssMiB: Object.fromEntries(Object.keys(samples).map((k) => [k, rss(k)])),
    ratios: pairs.map(([a, b]) => ({ measured: a, baseline: b, ratio: m(a) / m(b) })),
    stepsMedianMs: Object.fromEntries(
      Object.entries(stepSamples).map(([k, steps]) => [k, Object.fromEntries(Object.entries(steps).map(([st, xs]) => [st, median(xs)]))]),
    ),
  };
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'mfd-bench-'));
  const server = await startGitServer({ root: join(work, 'git') });
  const proxy = rttMs > 0 ? await startLatencyProxy({ host: '127.0.0.1', port: Number(new URL(server.url('x')).port) }, rttMs) : undefined;
  if (proxy) process.stderr.write(`mfd and git reach the server through a proxy adding ${rttMs} ms of round trip\n`);
  try {
    const bin = join(work, 'mfd-bin');
    await once([process.execPath, PACKAGE, '--out', bin], work);
    const results = [];
    for (const spec of fixtures) {
      process.stderr.write(`building fixture ${spec.name} (${spec.commits} commits, ${spec.files} files, ${(spec.refs ?? 0) + 1} refs)...\n`);
      const { shas, packBytes } = await buildFixture(join(work, 'git'), spec);
      const url = proxy ? proxy.via(server.url(spec.name)) : server.url(spec.name);
      const row = { ...(await fixtureRows(work, spec, url, shas, bin)), packMiB: packBytes / 1024 ** 2 };
      results.push(row);
      console.log(`\n${spec.name}: ${spec.commits} commits, ${spec.files} files, pack ${row.packMiB.toFixed(1)} MiB, ${reps} reps (medians)`);
      for (const [k, v] of Object.entries(row.medianMs)) {
        const rss = row.peakRssMiB[k];
        console.log(`  ${k.padEnd(40)} ${(v / 1000).toFixed(3)} s   peak RSS ${rss == null ? 'n/a (no /usr/bin/time)' : `${rss.toFixed(0)} MiB`}`);
      }
      for (const [k, steps] of Object.entries(row.stepsMedianMs)) {
        const total = row.medianMs[k]!;
        const inSteps = Object.values(steps).reduce((a, b) => a + b, 0);
        const parts = Object.entries(steps).map(([st, ms]) => `${st} ${ms}`).join(', ');
        console.log(`  ${`${k}, by step (ms)`.padEnd(40)} ${parts}; start-up and the rest ${Math.round(total - inSteps)}`);
      }
      for (const r of row.ratios) console.log(`  ${`${r.measured} / ${r.baseline}`.padEnd(72)} ${r.ratio.toFixed(2)}x`);
    }
    await mkdir(dirname(outFile), { recursive: true });
    await writeFile(outFile, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, reps, nodeExtraCaCerts: TIMED_ENV.NODE_EXTRA_CA_CERTS !== undefined, alsoWithNodeExtraCaCerts: CA_ENV !== undefined, rttMs, results }, null, 2)}\n`);
    console.log(`\nwrote ${relative(process.cwd(), outFile)}`);
  } finally {
    await proxy?.close();
    await server.close();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
