// `node --import tsx bench/build-cache.ts [--packages N] [--reps N]`: the build step of a deploy
// whose `npm ci` really installs (offline, from tarballs in the repository) against redeploys with
// the lockfile unchanged, where [[build.cache]] copies node_modules instead. No network is used.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGitServer } from '../test/helpers/git-server.ts';
import { createRepo } from '../test/helpers/repo.ts';

const MFD = fileURLToPath(new URL('../dist/mfd.cjs', import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const PACKAGES = opt('--packages', 150);
const FILES = 30;
const REPS = opt('--reps', 5);

function exec(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited ${code}: ${err.slice(-500)}`))));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'mfd-bench-cache-'));
  const env = { ...process.env, NO_COLOR: '1', npm_config_cache: join(tmp, 'npm-cache'), npm_config_update_notifier: 'false' };
  const server = await startGitServer({ root: join(tmp, 'git') });
  try {
    const repo = await createRepo(join(tmp, 'git'), 'app.git');
    // Packages as tarballs beside the app, referenced as file: dependencies: npm extracts them
    // into node_modules as it would registry packages, with no registry.
    const deps: Record<string, string> = {};
    for (let p = 0; p < PACKAGES; p++) {
      const pkg = join(tmp, 'src', `pkg${p}`, 'package');
      await mkdir(join(pkg, 'lib'), { recursive: true });
      await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: `pkg${p}`, version: '1.0.0', main: 'lib/f0.js' }));
      for (let f = 0; f < FILES; f++) await writeFile(join(pkg, 'lib', `f${f}.js`), `module.exports = ${JSON.stringify('x'.repeat(2000 + p + f))};\n`);
      await mkdir(join(repo.work, 'vendor'), { recursive: true });
      await exec(['tar', '-czf', join(repo.work, 'vendor', `pkg${p}.tgz`), '-C', join(tmp, 'src', `pkg${p}`), 'package'], tmp);
      deps[`pkg${p}`] = `file:vendor/pkg${p}.tgz`;
    }
    await writeFile(join(repo.work, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: deps }, null, 2));
    await exec(['npm', 'install', '--package-lock-only', '--offline', '--no-audit', '--no-fund'], repo.work, env);
    await repo.commit({ '.gitignore': 'node_modules\n', 'version.txt': '0\n' }, 'app');
    await repo.git(['add', '-A']);
    await repo.git(['commit', '--quiet', '--amend', '--no-edit']);
    await repo.push();
    const app = join(tmp, 'app');
    await mkdir(app);
    await writeFile(join(app, 'mfd.toml'), `[repo]\nurl = "${server.url('app.git')}"\n[build]\ncommands = [["npm", "ci", "--offline", "--no-audit", "--no-fund"]]\n[[build.cache]]\ncommand = 0\ninputs = ["package.json", "package-lock.json"]\noutputs = ["node_modules"]\n[deploy]\nkeep = 3\n`, { mode: 0o600 });
    for (let i = 1; i <= REPS + 1; i++) {
      if (i > 1) {
        await repo.commit({ 'version.txt': `${i}\n` }, `version ${i}`);
        await repo.push();
      }
      await exec([process.execPath, MFD, 'deploy'], app, env);
    }
    const runs = (await readFile(join(app, '.mfd', 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { steps: { step: string; ms: number }[] });
    const build = runs.map((r) => r.steps.find((s) => s.step === 'build')!.ms);
    const install = build[0]!;
    const reused = median(build.slice(1));
    console.log(`node_modules: ${PACKAGES} packages, ${PACKAGES * (FILES + 1)} files`);
    console.log(`build step, npm ci (installs):         ${install} ms`);
    console.log(`build step, lockfile unchanged (reused): ${reused} ms (median of ${REPS})  ratio ${(install / reused).toFixed(1)}x`);
  } finally {
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
