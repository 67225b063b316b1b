// `npm run bench:load`: issue #15's scenario twice in one run, behind systemd/app.socket and with a
// plain unit (the app on its own port), under one real systemd --user: how many requests failed
// in each, and the longest wait a request saw during a restart. Figures, never a threshold.
// Options: --deploys N (default 10), --clients N (default 4), --out FILE (default
// bench/results/load-latest.json). Needs root, unshare and systemd, as the suite's systemd tests.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSystemd, systemdAvailable } from '../test/helpers/systemd.ts';
import { runLoadScenario, type LoadResult } from './load-scenario.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const deploys = Math.max(10, option('--deploys', 10));
const clients = option('--clients', 4);
const outFile = args.includes('--out') ? args[args.indexOf('--out') + 1]! : fileURLToPath(new URL('./results/load-latest.json', import.meta.url));

/** The longest wait among requests started during runs of these kinds. */
const longest = (r: LoadResult, kinds: string[]) => Math.max(0, ...r.runs.filter((x) => kinds.includes(x.kind)).map((x) => x.maxWaitMs));

function summary(r: LoadResult) {
  const exits = r.runs.map((x) => `${x.kind} ${x.code}`);
  return {
    mode: r.mode, requests: r.requests, failed: r.failed, failures: r.failures,
    longestWaitMs: {
      anyRestart: Math.round(r.maxWaitMs),
      deployOrRollback: Math.round(longest(r, ['deploy', 'rollback'])),
      crashDeploy: Math.round(longest(r, ['crash deploy'])),
    },
    failedDuringCrashDeploy: r.runs.filter((x) => x.kind === 'crash deploy').reduce((n, x) => n + x.failed, 0),
    unknownCommits: Object.keys(r.answers).filter((sha) => !r.active.includes(sha)).length,
    exits,
  };
}

async function main(): Promise<void> {
  const available = await systemdAvailable();
  if (!available.ok) throw new Error(`no user systemd: ${available.why}`);
  const tmp = await mkdtemp(join(tmpdir(), 'mfd-bench-load-'));
  const systemd = await startSystemd(join(tmp, 'systemd'));
  try {
    const rows = [];
    for (const mode of ['socket', 'plain'] as const) {
      const dir = join(tmp, mode);
      await mkdir(dir);
      console.log(`${mode}: ${deploys} deploys, 1 crashing deploy, 2 rollbacks, ${clients} clients on fresh connections...`);
      rows.push(summary(await runLoadScenario({ mode, dir, systemd, deploys, clients, gapMs: 0 })));
    }
    console.log(`\n${'unit'.padEnd(8)} ${'requests'.padStart(9)} ${'failed'.padStart(7)} ${'in crash'.padStart(9)}  longest wait: deploy/rollback, crash deploy   failures`);
    for (const r of rows) {
      console.log(`${r.mode.padEnd(8)} ${String(r.requests).padStart(9)} ${String(r.failed).padStart(7)} ${String(r.failedDuringCrashDeploy).padStart(9)}  ${`${r.longestWaitMs.deployOrRollback} ms`.padStart(13)}, ${`${r.longestWaitMs.crashDeploy} ms`.padStart(8)}   ${JSON.stringify(r.failures)}`);
    }
    await mkdir(dirname(outFile), { recursive: true });
    await writeFile(outFile, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, deploys, clients, rows }, null, 2)}\n`);
    console.log(`\nwrote ${relative(process.cwd(), outFile)}`);
  } finally {
    await systemd.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench:load failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
