// `npm run build && node --import tsx bench/bigpack.ts`: peak RSS of a first deploy of a repository
// holding one large incompressible file (default 300 MiB), side by side with `git clone --depth 1`
// of the same repository in the same run; then of the compaction of that deploy's cache, once it
// holds more than MAX_PACKS packs (git/compact.ts, run on its own: bench/compact-probe.ts).
// Options: --mib N, --reps N (default 2, interleaved).
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_PACKS } from '../src/git/compact.ts';
import { startGitServer } from '../test/helpers/git-server.ts';

const MFD = fileURLToPath(new URL('../dist/mfd.cjs', import.meta.url));
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const mib = option('--mib', 300);
const reps = option('--reps', 2);

/** Runs argv under GNU time; its peak RSS in MiB and wall time in seconds. Throws on a failure. */
async function measured(argv: string[], cwd: string): Promise<{ rssMiB: number; s: number }> {
  spawnSync('sync');
  const started = performance.now();
  // Asynchronous: the git server answering it runs in this process.
  const child = spawn('/usr/bin/time', ['-f', '%M', ...argv], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`${argv.join(' ')} exited ${code}: ${err.slice(-500)}`);
  return { rssMiB: Number(err.trim().split('\n').at(-1)) / 1024, s: (performance.now() - started) / 1000 };
}

function git(cwd: string, ...argv: string[]): void {
  const r = spawnSync('git', argv, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`git ${argv.join(' ')} exited ${r.status}`);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'mfd-bench-big-'));
  try {
    const src = join(work, 'src');
    await mkdir(src);
    git(src, 'init', '-q', '-b', 'main');
    spawnSync('sh', ['-c', `head -c ${mib}M /dev/urandom > big.bin && echo hi > README`], { cwd: src });
    git(src, 'add', '.');
    git(src, '-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', 'commit', '-qm', 'big');
    git(work, 'clone', '-q', '--bare', src, join(work, 'git', 'big.git'));
    const server = await startGitServer({ root: join(work, 'git') });
    try {
      const url = server.url('big.git');
      const rows: Record<string, { rssMiB: number; s: number }[]> = { 'mfd first deploy': [], 'git clone --depth 1': [] };
      for (let r = 0; r < reps; r++) {
        const app = join(work, `app-${r}`);
        await mkdir(app);
        await writeFile(join(app, 'mfd.toml'), `[repo]\nurl = "${url}"\n[build]\ncommands = []\n`);
        rows['mfd first deploy']!.push(await measured([process.execPath, MFD, '--ci', 'deploy', 'main'], app));
        rows['git clone --depth 1']!.push(await measured(['git', 'clone', '-q', '--depth', '1', '--no-tags', url, join(work, `clone-${r}`)], work));
      }
      // Past MAX_PACKS packs the next fetch compacts the cache: small packs of one blob each, as fetches add.
      const gitdir = join(work, 'app-0', '.mfd', 'repo.git');
      for (let i = 0; i <= MAX_PACKS; i++) {
        const blob = spawnSync('git', ['hash-object', '-w', '--stdin'], { cwd: src, input: `pack ${i}\n`, encoding: 'utf8' }).stdout.trim();
        spawnSync('git', ['pack-objects', '-q', join(gitdir, 'objects', 'pack', 'pack')], { cwd: src, input: `${blob}\n`, stdio: ['pipe', 'ignore', 'inherit'] });
      }
      // Run from src/ through tsx, whose own start-up is the second row: the difference is the compaction's.
      const probe = (...a: string[]) => measured([process.execPath, '--import', 'tsx', fileURLToPath(new URL('./compact-probe.ts', import.meta.url)), ...a], fileURLToPath(new URL('..', import.meta.url)));
      rows[`compaction of its cache (${MAX_PACKS + 2} packs)`] = [await probe(gitdir)];
      rows['the same probe, compacting nothing'] = [await probe('--nothing')];
      console.log(`one ${mib} MiB incompressible file, ${reps} reps, interleaved`);
      for (const [k, xs] of Object.entries(rows)) {
        console.log(`  ${k.padEnd(36)} peak RSS ${xs.map((x) => `${x.rssMiB.toFixed(0)} MiB`).join(', ')}   wall ${xs.map((x) => `${x.s.toFixed(2)} s`).join(', ')}`);
      }
    } finally {
      await server.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
