// Builds git repositories for tests with the git CLI: a work tree whose commits are pushed to a
// bare repo that the test git server serves. Names, emails and dates are fixed, so shas are reproducible.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';

export const IDENTITY = { name: 'Mfd Test', email: 'test@mfd.invalid' } as const;
/** Unix seconds of the first commit; every later commit or tag is one minute later. */
export const EPOCH = 1_700_000_000;

export type FileSpec = string | Buffer | { content: string | Buffer; mode?: 'exec' | 'symlink' };

export interface TestRepo {
  /** Path of the bare repository, relative to the server root: what GitServer.url() takes. */
  name: string;
  bare: string;
  work: string;
  /** Writes (or, for null, deletes) files in the work tree and commits them on the current branch. */
  commit(files: Record<string, FileSpec | null>, message: string): Promise<string>;
  /** Returns the sha the tag ref points to: the tag object's when annotated, else the commit's. */
  tag(name: string, sha: string, options?: { annotated?: boolean }): Promise<string>;
  branch(name: string, sha: string): Promise<void>;
  /** Mirrors every branch and tag of the work tree into the bare repository. */
  push(): Promise<void>;
  /** Runs git in the work tree with the fixed identity; `date` (unix seconds) defaults to the next tick. */
  git(args: string[], options?: { date?: number }): Promise<string>;
}

export async function tmpRoot(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mfd-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs git with a clean environment: no user or system config, fixed identity and `date`. */
export async function runGit(args: string[], options: { cwd: string; date?: number; input?: string | Buffer }): Promise<string> {
  return runWithGitEnv('git', args, options);
}

/**
 * Runs `script` in sh with runGit's environment, `args` as $1...: several git commands for the
 * price of one spawn from this (large) test process; sh forks the git processes itself.
 */
async function runGitScript(script: string, args: string[], options: { cwd: string; date?: number }): Promise<string> {
  return runWithGitEnv('sh', ['-c', script, 'sh', ...args], options);
}

async function runWithGitEnv(file: string, args: string[], options: { cwd: string; date?: number; input?: string | Buffer }): Promise<string> {
  const date = `@${options.date ?? EPOCH} +0000`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: options.cwd,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: IDENTITY.name,
    GIT_AUTHOR_EMAIL: IDENTITY.email,
    GIT_COMMITTER_NAME: IDENTITY.name,
    GIT_COMMITTER_EMAIL: IDENTITY.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
    // No automatic gc or maintenance after a commit or a push (receive-pack inherits this): a
    // test repo holds a few objects, and each would cost a shell and two git processes per push.
    GIT_CONFIG_COUNT: '3',
    GIT_CONFIG_KEY_0: 'gc.auto',
    GIT_CONFIG_VALUE_0: '0',
    GIT_CONFIG_KEY_1: 'maintenance.auto',
    GIT_CONFIG_VALUE_1: 'false',
    GIT_CONFIG_KEY_2: 'receive.autogc',
    GIT_CONFIG_VALUE_2: 'false',
  };
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { cwd: options.cwd, env, maxBuffer: 64 << 20, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file === 'git' ? 'git ' : ''}${args.join(' ')} failed: ${stderr.trim() || error.message}`, { cause: error }));
      else resolve(stdout.trim());
    });
    // EPIPE when git exits without reading stdin is harmless: it did not need the input.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

export async function createRepo(root: string, name: string, options: { branch?: string } = {}): Promise<TestRepo> {
  const branchName = options.branch ?? 'main';
  const bare = join(root, name);
  const work = join(root, '.work', name);
  await mkdir(bare, { recursive: true });
  await mkdir(work, { recursive: true });
  await runGit(['init', '--quiet', '--bare', `--initial-branch=${branchName}`], { cwd: bare });
  // Native git clients speaking protocol v0 need this to fetch a commit that is not a ref tip.
  await runGit(['config', 'uploadpack.allowReachableSHA1InWant', 'true'], { cwd: bare });
  await runGit(['init', '--quiet', `--initial-branch=${branchName}`], { cwd: work });

  let tick = 0;
  const git = (args: string[], opts: { date?: number } = {}) =>
    runGit(args, { cwd: work, date: opts.date ?? EPOCH + 60 * tick++ });

  return {
    name,
    bare,
    work,
    git,
    async commit(files, message) {
      for (const [path, spec] of Object.entries(files)) await writeSpec(join(work, path), spec);
      // The commit's date is the tick after add's, as when these were three calls of git().
      const date = EPOCH + 60 * (tick + 1);
      tick += 3;
      return runGitScript('git add --all && git commit --quiet --allow-empty --no-verify -m "$1" && git rev-parse HEAD', [message], { cwd: work, date });
    },
    async tag(tagName, sha, opts = {}) {
      const args = opts.annotated ? ['tag', '-a', '-m', `tag ${tagName}`, tagName, sha] : ['tag', tagName, sha];
      await git(args);
      return git(['rev-parse', `refs/tags/${tagName}`]);
    },
    async branch(branch, sha) {
      await git(['branch', '--force', branch, sha]);
    },
    async push() {
      await git(['push', '--quiet', '--mirror', bare]);
    },
  };
}

async function writeSpec(path: string, spec: FileSpec | null): Promise<void> {
  await rm(path, { force: true });
  if (spec === null) return;
  await mkdir(dirname(path), { recursive: true });
  const { content, mode } = typeof spec === 'string' || Buffer.isBuffer(spec) ? { content: spec, mode: undefined } : spec;
  if (mode === 'symlink') return symlink(content.toString(), path);
  await writeFile(path, content);
  await chmod(path, mode === 'exec' ? 0o755 : 0o644);
}
