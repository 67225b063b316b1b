// Deterministic benchmark repositories, generated with `git fast-import` from a seeded PRNG: no
// download, the same bytes every run. `large` is thousands of commits over hundreds of files;
// `express` is shaped like expressjs/express as a server sees it: thousands of refs besides.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runGit } from '../test/helpers/repo.ts';

export interface FixtureSpec {
  name: string;
  commits: number;
  files: number;
  /** Files changed per commit, and the size of each new version in bytes. */
  touched: number;
  bytes: number;
  /** Tags besides `main`, on commits spread over the history (express: 3,941 refs). */
  refs?: number;
}

export const SMALL: FixtureSpec = { name: 'small.git', commits: 30, files: 20, touched: 2, bytes: 2048 };
export const LARGE: FixtureSpec = { name: 'large.git', commits: 3000, files: 400, touched: 3, bytes: 3072 };
export const EXPRESS: FixtureSpec = { name: 'express.git', commits: 4000, files: 200, touched: 2, bytes: 2048, refs: 4000 };

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** Creates the bare repo `root/<name>`; returns the shas of its commits, oldest first, and its pack size. */
export async function buildFixture(root: string, spec: FixtureSpec): Promise<{ shas: string[]; packBytes: number }> {
  const bare = join(root, spec.name);
  await mkdir(bare, { recursive: true });
  await runGit(['init', '--quiet', '--bare', '--initial-branch=main'], { cwd: bare });
  const next = prng(0x6d6664 + spec.commits);
  const content = () => {
    const buf = Buffer.alloc(spec.bytes);
    for (let i = 0; i < buf.length; i += 4) buf.writeUInt32LE(next(), i);
    return `${buf.toString('base64')}\n`;
  };
  const child = spawn('git', ['fast-import', '--quiet'], { cwd: bare, stdio: ['pipe', 'ignore', 'pipe'] });
  const write = (s: string) => new Promise<void>((r) => (child.stdin.write(s) ? r() : child.stdin.once('drain', () => r())));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  for (let c = 0; c < spec.commits; c++) {
    const date = 1_700_000_000 + c * 60;
    const msg = `commit ${c}\n`;
    let cmd = `commit refs/heads/main\nmark :${c + 1}\ncommitter Bench <bench@mfd.invalid> ${date} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}`;
    if (c > 0) cmd += `from :${c}\n`;
    const touched = c === 0 ? Array.from({ length: spec.files }, (_, i) => i) : Array.from({ length: spec.touched }, () => next() % spec.files);
    for (const f of touched) {
      const data = content();
      cmd += `M 100644 inline src/dir${f % 20}/file${f}.txt\ndata ${Buffer.byteLength(data)}\n${data}`;
    }
    await write(`${cmd}\n`);
  }
  for (let t = 0; t < (spec.refs ?? 0); t++) {
    await write(`reset refs/tags/v${Math.floor(t / 100)}.${t % 100}.0\nfrom :${1 + Math.floor((t * spec.commits) / (spec.refs ?? 1))}\n\n`);
  }
  child.stdin.end();
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`git fast-import failed: ${stderr}`);
  await runGit(['config', 'uploadpack.allowReachableSHA1InWant', 'true'], { cwd: bare });
  await runGit(['repack', '-a', '-d', '--quiet'], { cwd: bare });
  // As a real server keeps them: one packed-refs file, not thousands of loose refs.
  await runGit(['pack-refs', '--all'], { cwd: bare });
  const shas = (await runGit(['rev-list', '--reverse', 'main'], { cwd: bare })).split('\n');
  const sizes = await runGit(['count-objects', '-v'], { cwd: bare });
  const packKiB = Number(/size-pack: (\d+)/.exec(sizes)?.[1] ?? 0);
  return { shas, packBytes: packKiB * 1024 };
}
