// The zero-downtime scenario of issue #15, shared by the suite (test/e2e/load.test.ts) and the
// bench (bench/load.ts): clients on 127.0.0.1 send requests on fresh connections, several in
// flight, while the real mfd CLI deploys the example app again and again under a real systemd
// --user, deploys one commit that crashes on start (rolled back automatically), and rolls back by
// hand twice. It counts what failed and which commit answered; it asserts nothing itself.
import { request } from 'node:http';
import { mkdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGitServer } from '../test/helpers/git-server.ts';
import { freePort } from '../test/helpers/http.ts';
import { createRepo } from '../test/helpers/repo.ts';
import { mfd } from '../test/helpers/cli.ts';
import { uniqueUnit, type UserSystemd } from '../test/helpers/systemd.ts';

const EXAMPLE = fileURLToPath(new URL('../examples/app/', import.meta.url));
const UNITS = fileURLToPath(new URL('../systemd/', import.meta.url));

export interface LoadOptions {
  /** `socket`: systemd/app.socket in front of the app; `plain`: the app listens on its own port. */
  mode: 'socket' | 'plain';
  /** A fresh directory for the git server and the app root. */
  dir: string;
  systemd: UserSystemd;
  /** Ordinary deploys (at least 10); one crashing deploy and two manual rollbacks come on top. */
  deploys: number;
  clients: number;
  /** Pause between one client's requests (0: back to back), so the suite's run stays cheap. */
  gapMs: number;
  /**
   * How many of the deploys build a new commit; the others redeploy one of those (reused: no
   * fetch, no build), which restarts the unit all the same and costs the suite far less.
   */
  newCommits?: number;
}

export type RunKind = 'deploy' | 'crash deploy' | 'rollback';

export interface LoadRun { kind: RunKind; args: string[]; code: number | null; stderr: string; sha: string | undefined; maxWaitMs: number; requests: number; failed: number }

export interface LoadResult {
  mode: LoadOptions['mode'];
  requests: number;
  failed: number;
  /** Failures by kind: ECONNREFUSED, ECONNRESET, `HTTP 502`, `bad answer`, `no answer in 30s`. */
  failures: Record<string, number>;
  /** Answers by the commit they named. */
  answers: Record<string, number>;
  /** Every sha `active` pointed at during the window (read after each run). */
  active: string[];
  /** The longest any request waited, and the same for requests started during each run. */
  maxWaitMs: number;
  runs: LoadRun[];
  /** The sha the crash deploy rolled back to; requests started during that deploy answered with these commits. */
  crash: { restored: string | undefined; answeredBy: Record<string, number> };
}

/** The shipped units as `unit`, with this test's port, paths and node, and without what a user manager cannot do. */
export async function exampleUnits(mode: LoadOptions['mode'], root: string, port: number, unit: string): Promise<{ service: string; socket?: string }> {
  const service = (await readFile(join(UNITS, 'app.service'), 'utf8'))
    .replace(/\bapp\.socket\b/g, `${unit}.socket`)
    .replace(/^(User|NoNewPrivileges|ProtectSystem|PrivateTmp)=.*\n/gm, '')
    .replace(/^WorkingDirectory=.*$/m, `WorkingDirectory=${root}/active`)
    .replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`)
    .replace(/^Environment=PORT=.*$/m, `Environment=PORT=${port}`)
    .replace(/ network\.target/, '');
  if (mode === 'plain') return { service: service.replace(/^Requires=.*\n/m, '').replace(/^After=.*\n/m, '') };
  const socket = (await readFile(join(UNITS, 'app.socket'), 'utf8')).replace(/^ListenStream=.*$/m, `ListenStream=127.0.0.1:${port}`);
  return { service, socket };
}

export async function runLoadScenario(options: LoadOptions): Promise<LoadResult> {
  const { dir, systemd } = options;
  const server = await startGitServer({ root: join(dir, 'git') });
  const unit = uniqueUnit();
  try {
    const repo = await createRepo(join(dir, 'git'), 'app.git');
    const root = join(dir, 'app');
    await mkdir(root);
    const port = await freePort();
    const units = await exampleUnits(options.mode, root, port, unit);
    if (units.socket) await systemd.installUnit(`${unit}.socket`, units.socket);
    await systemd.installUnit(unit, units.service);
    if (units.socket) await systemd.systemctl('start', `${unit}.socket`);
    const node = JSON.stringify(process.execPath);
    await writeFile(join(root, 'mfd.toml'), `[repo]\nurl = "${server.url('app.git')}"\n[build]\ncommands = [[${node}, "build.js"]]\n` +
      `[systemd]\nunit = "${unit}"\nscope = "user"\n[deploy]\nkeep = 50\n[health]\nurl = "http://127.0.0.1:${port}/health"\ntimeout = "30s"\ninterval = "100ms"\n`, { mode: 0o600 });
    const files = Object.fromEntries(await Promise.all(['server.js', 'build.js', 'package.json'].map(async (f) => [f, await readFile(join(EXAMPLE, f), 'utf8')] as const)));
    let n = 0;
    const commit = async (crash = false) => {
      const sha = await repo.commit({ ...files, ...(crash ? { 'server.js': 'process.exit(1)\n' } : {}), 'version.txt': `${++n}\n` }, `version ${n}`);
      await repo.push();
      return sha;
    };
    const run = (args: string[]) => mfd(args, { cwd: root, env: { ...systemd.env, CI: 'true' } });
    const activeSha = async () => (await readlink(join(root, 'active')).catch(() => '')).split('_')[2];

    const first = await run(['deploy', await commit()]);
    if (first.code !== 0) throw new Error(`the first deploy failed: ${first.stderr}`);
    const active = new Set<string>([(await activeSha())!]);
    const load = startLoad(port, options.clients, options.gapMs);
    const done: (Omit<LoadRun, 'maxWaitMs' | 'requests' | 'failed'> & { phase: number })[] = [];
    const plan: RunKind[] = [];
    for (let i = 0; i < options.deploys; i++) {
      plan.push('deploy');
      // The crash, then a manual rollback at once (issue #15 saw that one exit 8), and another later.
      if (i === Math.floor(options.deploys / 2) - 1) plan.push('crash deploy', 'rollback');
      if (i === options.deploys - 3) plan.push('rollback');
    }
    let crashRestored: string | undefined;
    let crashPhase = -1;
    const built: string[] = [];
    // A new commit while fewer than newCommits are built, else the next built one that is not active.
    const nextDeploy = async (i: number, current: string | undefined) => {
      if (built.length < (options.newCommits ?? Infinity)) return built[built.push(await commit()) - 1]!;
      const others = built.filter((sha) => sha !== current);
      return others[i % others.length]!;
    };
    for (const [i, kind] of plan.entries()) {
      const target = kind === 'rollback' ? undefined : kind === 'crash deploy' ? await commit(true) : await nextDeploy(i, await activeSha());
      const args = target ? ['deploy', target] : ['rollback'];
      const phase = load.phase();
      const r = await run(args);
      const sha = await activeSha();
      if (sha) active.add(sha);
      if (kind === 'crash deploy') [crashRestored, crashPhase] = [sha, phase];
      done.push({ kind, args, code: r.code, stderr: r.stderr, sha, phase });
    }
    const totals = await load.stop();
    // After the stop, so the requests still in flight when a run ended are counted in it too.
    const runs = done.map(({ phase, ...r }) => ({ ...r, ...load.phaseStats(phase) }));
    return {
      mode: options.mode, ...totals, active: [...active], runs,
      crash: { restored: crashRestored, answeredBy: load.answersIn(crashPhase) },
    };
  } finally {
    await systemd.systemctl('stop', `${unit}.service`, `${unit}.socket`);
    await server.close();
  }
}

interface Sample { phase: number; ms: number; commit?: string; failure?: string }

/** Clients sending GET / on fresh connections until stopped; each request is counted in the phase (run) it started in. */
function startLoad(port: number, clients: number, gapMs: number) {
  const samples: Sample[] = [];
  let phase = 0;
  let stopping = false;
  const one = (p: number) => new Promise<void>((resolve) => {
    const started = performance.now();
    const done = (s: Omit<Sample, 'phase' | 'ms'>) => { samples.push({ phase: p, ms: performance.now() - started, ...s }); resolve(); };
    // agent: false and Connection: close make each request a new TCP connection.
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' }, timeout: 30_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('error', (e: NodeJS.ErrnoException) => done({ failure: e.code ?? e.message }));
      res.on('end', () => {
        if (res.statusCode !== 200) return done({ failure: `HTTP ${res.statusCode}` });
        try {
          done({ commit: (JSON.parse(body) as { commit: string }).commit });
        } catch {
          done({ failure: 'bad answer' }); // Counted as a failure: the answer named no commit.
        }
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('no answer in 30s'), { code: 'no answer in 30s' })));
    req.on('error', (e: NodeJS.ErrnoException) => done({ failure: e.code ?? e.message }));
    req.end();
  });
  const loop = async () => {
    while (!stopping) {
      await one(phase);
      if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    }
  };
  const loops = Array.from({ length: clients }, loop);
  const of = (p: number) => samples.filter((s) => s.phase === p);
  const count = (list: Sample[], key: 'commit' | 'failure') => {
    const out: Record<string, number> = {};
    for (const s of list) if (s[key]) out[s[key]!] = (out[s[key]!] ?? 0) + 1;
    return out;
  };
  const maxMs = (list: Sample[]) => list.reduce((m, s) => Math.max(m, s.ms), 0);
  return {
    /** Starts a new phase (a run) and returns its number. */
    phase: () => ++phase,
    phaseStats: (p: number) => ({ maxWaitMs: maxMs(of(p)), requests: of(p).length, failed: of(p).filter((s) => s.failure).length }),
    answersIn: (p: number) => count(of(p), 'commit'),
    async stop() {
      stopping = true;
      await Promise.all(loops);
      return { requests: samples.length, failed: samples.filter((s) => s.failure).length, failures: count(samples, 'failure'), answers: count(samples, 'commit'), maxWaitMs: maxMs(samples) };
    },
  };
}
