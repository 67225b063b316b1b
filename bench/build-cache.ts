// `node --import tsx bench/build-cache.ts [--packages N | --repo DIR] [--reps N] [--fs ext4|xfs|btrfs | --dir DIR] [--mfd FILE]`:
// the dependency step of deploys whose `npm ci` really installs, against redeploys with the
// lockfile unchanged, where [[build.cache]] copies node_modules instead. See bench/README.md.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGitServer } from '../test/helpers/git-server.ts';
import { createRepo, type TestRepo } from '../test/helpers/repo.ts';
import { LOOP_KINDS, withLoopMount, type LoopKind } from './loopfs.ts';

const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
// --mfd A[,B]: other builds of mfd.cjs; with two, each round reuses once with each (A/B, interleaved).
const MFDS = (flag('--mfd') ?? fileURLToPath(new URL('../dist/mfd.cjs', import.meta.url))).split(',').map((f) => resolve(f));
const PACKAGES = Number(flag('--packages') ?? 150);
const FILES = 30;
const REPS = Number(flag('--reps') ?? 5);
const REPO = flag('--repo');
const FS = flag('--fs');
const DIR = flag('--dir');
const IMAGE_GB = Number(flag('--image-gb') ?? 8);

function exec(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')} exited ${code}: ${(err || out).slice(-800)}`))));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The synthetic app: packages as tarballs in its repository (`file:` dependencies), so `npm ci --offline` installs with no registry. */
async function syntheticApp(tmp: string, repo: TestRepo, env: NodeJS.ProcessEnv): Promise<string> {
  const deps: Record<string, string> = {};
  await mkdir(join(repo.work, 'vendor'), { recursive: true });
  for (let p = 0; p < PACKAGES; p++) {
    const pkg = join(tmp, 'src', `pkg${p}`, 'package');
    await mkdir(join(pkg, 'lib'), { recursive: true });
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: `pkg${p}`, version: '1.0.0', main: 'lib/f0.js' }));
    for (let f = 0; f < FILES; f++) await writeFile(join(pkg, 'lib', `f${f}.js`), `module.exports = ${JSON.stringify('x'.repeat(2000 + p + f))};\n`);
    await exec(['tar', '-czf', join(repo.work, 'vendor', `pkg${p}.tgz`), '-C', join(tmp, 'src', `pkg${p}`), 'package'], tmp);
    deps[`pkg${p}`] = `file:vendor/pkg${p}.tgz`;
  }
  await writeFile(join(repo.work, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: deps }, null, 2));
  await exec(['npm', 'install', '--package-lock-only', '--offline', '--no-audit', '--no-fund'], repo.work, env);
  await repo.commit({ '.gitignore': 'node_modules\n', 'bench-version.txt': '0\n' }, 'app');
  return `synthetic, ${PACKAGES} packages (npm ci --offline, from tarballs in the repository)`;
}

/** A real npm project the user cloned: its history as it is (the bench never downloads a repository), npm from its registry. */
async function clonedApp(repo: TestRepo): Promise<string> {
  const from = resolve(REPO!);
  await repo.git(['fetch', '--quiet', '--no-tags', from, 'HEAD']);
  await repo.git(['reset', '--quiet', '--hard', 'FETCH_HEAD']);
  const name = (JSON.parse(await readFile(join(repo.work, 'package.json'), 'utf8')) as { name?: string }).name ?? basename(from);
  return `${name} at ${await repo.git(['rev-parse', '--short=12', 'HEAD'])} (npm ci from the registry)`;
}

interface Run { steps: { step: string; ms: number }[]; reused?: { command: number }[] }

async function bench(tmp: string, appParent: string): Promise<void> {
  const env = { ...process.env, NO_COLOR: '1', npm_config_cache: join(tmp, 'npm-cache'), npm_config_update_notifier: 'false' };
  const server = await startGitServer({ root: join(tmp, 'git') });
  try {
    const repo = await createRepo(join(tmp, 'git'), 'app.git');
    const what = REPO ? await clonedApp(repo) : await syntheticApp(tmp, repo, env);
    await repo.push();
    const app = await mkdtemp(join(appParent, 'mfd-bench-app-'));
    const npmCi = JSON.stringify(['npm', 'ci', ...(REPO ? [] : ['--offline']), '--no-audit', '--no-fund']);
    // keep: nothing is pruned inside the run, so no deploy pays for removing an earlier one.
    const base = `[repo]\nurl = "${server.url('app.git')}"\n[build]\ncommands = [${npmCi}]\n[deploy]\nkeep = ${2 * REPS + 2}\n`;
    const cached = `${base}[[build.cache]]\ncommand = 0\ninputs = ["package.json", "package-lock.json", ".npmrc"]\noutputs = ["node_modules"]\n`;
    // The first deploy installs with npm's cache empty; then, interleaved, a redeploy that must
    // install (no [[build.cache]] in mfd.toml) and one that reuses, each a new commit with the lockfile unchanged.
    const plan: ('first' | 'install' | `reuse${number}`)[] = ['first'];
    for (let i = 0; i < REPS; i++) plan.push('install', ...MFDS.map((_, m) => `reuse${m}` as const));
    for (const [i, kind] of plan.entries()) {
      if (i > 0) {
        await repo.commit({ 'bench-version.txt': `${i}\n` }, `bench ${i}`);
        await repo.push();
      }
      await writeFile(join(app, 'mfd.toml'), kind === 'install' ? base : cached, { mode: 0o600 });
      // The writeback of what the deploy before wrote is not this one's to pay for.
      await exec(['sync'], app);
      await exec([process.execPath, MFDS[kind.startsWith('reuse') ? Number(kind.slice(5)) : 0]!, 'deploy'], app, env);
    }
    const runs = (await readFile(join(app, '.mfd', 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Run);
    const build = (r: Run) => r.steps.find((s) => s.step === 'build')!.ms;
    const of = (kind: string) => runs.filter((_, i) => plan[i] === kind);
    for (const r of runs.filter((_, i) => plan[i]!.startsWith('reuse'))) if (!r.reused?.length) throw new Error('a redeploy with [[build.cache]] did not reuse node_modules: see mfd history in the app root');
    const active = join(app, 'active', 'node_modules');
    const files = (await readdir(active, { recursive: true })).length;
    const packages = (await readdir(active)).flatMap((n) => (n.startsWith('.') ? [] : [n])).length;
    const fsType = (await exec(['findmnt', '--noheadings', '--output', 'FSTYPE', '--target', app], app)).trim();
    const install = of('install').map(build);
    console.log(`app: ${what}`);
    console.log(`node_modules: ${files} entries, ${packages} top-level; app root on ${fsType}${FS ? ` (a fresh loop-mounted ${FS})` : ''}`);
    console.log(`dependency step (the build step, from .mfd/history.jsonl):`);
    console.log(`  first deploy, npm ci (installs, npm cache empty): ${build(runs[0]!)} ms`);
    console.log(`  redeploy, npm ci (installs):         ${median(install)} ms (median of ${REPS}: ${install.join(', ')})`);
    for (const [m, file] of MFDS.entries()) {
      const reused = of(`reuse${m}`).map(build);
      const which = MFDS.length > 1 ? ` [${basename(file)}]` : '';
      console.log(`  lockfile unchanged (reused)${which}: ${median(reused)} ms (median of ${REPS}: ${reused.join(', ')})  ratio ${(median(install) / median(reused)).toFixed(1)}x`);
    }
  } finally {
    await server.close();
  }
}

async function main(): Promise<void> {
  if (FS !== undefined && !(LOOP_KINDS as readonly string[]).includes(FS)) throw new Error(`--fs takes one of ${LOOP_KINDS.join(', ')}, got ${FS}`);
  const tmp = await mkdtemp(join(tmpdir(), 'mfd-bench-cache-'));
  try {
    if (FS) await withLoopMount(FS as LoopKind, tmp, IMAGE_GB * 2 ** 30, (mount) => bench(tmp, mount));
    else if (DIR) {
      // Only the app root this run made goes, never DIR itself.
      const parent = await mkdtemp(join(resolve(DIR), 'mfd-bench-'));
      try {
        await bench(tmp, parent);
      } finally {
        await rm(parent, { recursive: true, force: true });
      }
    } else await bench(tmp, tmp);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
