// `npm run bench:rss`: does a long-running `mfd watch` grow? One process runs the real deploy loop
// (cd/) against the real git server: 1,000 polls with nothing to do, then 50 deploys of new
// commits, sampling RSS and the heap after a forced GC; it reports each phase flat or growing.
// Options: --polls N (default 1000), --deploys N (default 50), --out FILE (JSON). Never fails on a figure.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitServer } from '../test/helpers/git-server.ts';
import { createRepo } from '../test/helpers/repo.ts';
import { createContext } from '../src/context.ts';
import { Reporter } from '../src/sys/output.ts';
import { createAppLoop } from '../src/cd/app-loop.ts';
import { LevelLog } from '../src/cd/log.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const POLLS = option('--polls', 1000);
const DEPLOYS = option('--deploys', 50);
const outFile = args.includes('--out') ? args[args.indexOf('--out') + 1] : undefined;
/** A phase is flat when the heap left after a full GC grew by less than this from its start. */
const FLAT_HEAP_MIB = 4;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:rss does)');
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

interface Sample { after: string; rssMiB: number; heapMiB: number; handles: number }
function sample(after: string): Sample {
  gc!();
  const m = process.memoryUsage();
  // Live handles (sockets, timers, files): a loop that leaks them grows without its heap showing it.
  return { after, rssMiB: mib(m.rss), heapMiB: mib(m.heapUsed), handles: process.getActiveResourcesInfo().length };
}

const work = await mkdtemp(join(tmpdir(), 'mfd-bench-rss-'));
const server = await startGitServer({ root: join(work, 'git') });
try {
  const repo = await createRepo(join(work, 'git'), 'app.git');
  const root = join(work, 'app');
  await (await import('node:fs/promises')).mkdir(root);
  await writeFile(join(root, 'mfd.toml'), `[repo]\nurl = "${server.url('app.git')}"\n[build]\ncommands = []\n`, { mode: 0o600 });
  let n = 0;
  const commit = async () => {
    n++;
    await repo.commit({ 'version.txt': `${n}\n`, [`file-${n % 20}.txt`]: `${n}\n`.repeat(100) }, `version ${n}`);
    await repo.push();
  };
  const quiet = { write: () => undefined };
  const reporter = new Reporter({ mode: 'plain', color: false, verbose: false, stdout: quiet, stderr: quiet });
  const ctx = await createContext({ configFile: join(root, 'mfd.toml'), env: { ...process.env, MFD_TEST_PAUSE_AT: undefined }, reporter, signal: new AbortController().signal });
  const lines: string[] = [];
  const app = createAppLoop(ctx, new LevelLog((l) => {
    if (l.startsWith('error') || l.startsWith('warn')) lines.push(l);
  }));
  const poll = async () => {
    app.loop.poke({ kind: 'poll' });
    await app.loop.idle();
    // The server shares this process: its request log is the bench's memory, not the loop's.
    server.resetCounters();
    const kind = app.latest()?.kind;
    if (kind !== 'current' && kind !== 'deployed') throw new Error(`a poll ended ${kind}: ${lines.slice(-3).join(' | ')}`);
  };

  // Warm-up: the first deploy loads isomorphic-git and fills its caches; that is not growth.
  await commit();
  await poll();
  for (let i = 0; i < 20; i++) await poll();
  const samples: Sample[] = [sample('warm-up (1 deploy, 20 polls)')];
  const pollsStart = samples[0]!;
  const every = Math.max(1, Math.floor(POLLS / 5));
  for (let i = 1; i <= POLLS; i++) {
    await poll();
    if (i % every === 0) samples.push(sample(`${i} polls`));
  }
  const pollsEnd = samples.at(-1)!;
  const everyDeploy = Math.max(1, Math.floor(DEPLOYS / 5));
  for (let i = 1; i <= DEPLOYS; i++) {
    await commit();
    await poll();
    if (app.latest()?.kind !== 'deployed') throw new Error(`deploy ${i} did not deploy: ${app.latest()?.kind}`);
    if (i % everyDeploy === 0) samples.push(sample(`${POLLS} polls + ${i} deploys`));
  }
  const deploysEnd = samples.at(-1)!;
  const verdict = (from: Sample, to: Sample) => (to.heapMiB - from.heapMiB < FLAT_HEAP_MIB ? 'flat' : 'GROWING');
  const phases = [
    { phase: `${POLLS} polls`, heapGrowthMiB: mib((pollsEnd.heapMiB - pollsStart.heapMiB) * 2 ** 20), rssGrowthMiB: mib((pollsEnd.rssMiB - pollsStart.rssMiB) * 2 ** 20), verdict: verdict(pollsStart, pollsEnd) },
    { phase: `${DEPLOYS} deploys`, heapGrowthMiB: mib((deploysEnd.heapMiB - pollsEnd.heapMiB) * 2 ** 20), rssGrowthMiB: mib((deploysEnd.rssMiB - pollsEnd.rssMiB) * 2 ** 20), verdict: verdict(pollsEnd, deploysEnd) },
  ];
  console.log('RSS of one deploy loop (heap after a full GC; flat: it grew by less than 4 MiB)\n');
  console.log(`${'after'.padEnd(34)}${'RSS MiB'.padStart(9)}${'heap MiB'.padStart(10)}${'handles'.padStart(9)}`);
  for (const s of samples) console.log(`${s.after.padEnd(34)}${String(s.rssMiB).padStart(9)}${String(s.heapMiB).padStart(10)}${String(s.handles).padStart(9)}`);
  console.log('');
  for (const p of phases) console.log(`${p.phase.padEnd(16)} heap ${p.heapGrowthMiB >= 0 ? '+' : ''}${p.heapGrowthMiB} MiB, RSS ${p.rssGrowthMiB >= 0 ? '+' : ''}${p.rssGrowthMiB} MiB: ${p.verdict}`);
  if (outFile) await writeFile(outFile, `${JSON.stringify({ polls: POLLS, deploys: DEPLOYS, samples, phases }, null, 2)}\n`);
} finally {
  await server.close();
  await rm(work, { recursive: true, force: true });
}
