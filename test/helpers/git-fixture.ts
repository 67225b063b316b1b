// The repository most git tests start from, served by a real git server: four commits on the
// default branch, a lightweight and an annotated tag, a second branch. Each call owns its temp dir.
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { RepoAuth, RepoRemote } from '../../src/git/git.ts';
import { startGitServer, type GitServer, type GitServerOptions } from './git-server.ts';
import { createRepo, tmpRoot, type TestRepo } from './repo.ts';

export interface Fixture {
  root: string;
  repo: TestRepo;
  server: GitServer;
  gitdir: string;
  remote: RepoRemote;
  /** c1 ← c2 ← c3 ← c4 on the default branch; v1 → c2 (lightweight), v2 → c3 (annotated), feature → c2. */
  c: [string, string, string, string];
}

export interface FixtureOptions {
  /** The default branch (HEAD of the served repo); `main` unless given. */
  branch?: string;
  /** Basic auth the server demands. */
  auth?: { username: string; password: string };
  /** What the returned remote sends; none unless given. */
  remoteAuth?: RepoAuth;
  /** The server's hold and trickle hooks (git-server.ts). */
  server?: Pick<GitServerOptions, 'beforeChunk' | 'maxChunk'>;
}

export async function gitFixture(t: TestContext, options: FixtureOptions = {}): Promise<Fixture> {
  const root = await tmpRoot(t);
  const repo = await createRepo(join(root, 'srv'), 'app.git', { branch: options.branch });
  const c1 = await repo.commit(
    {
      'README.md': '# app\n',
      'bin/start': { content: '#!/bin/sh\necho start\n', mode: 'exec' },
      'docs/readme-link': { content: '../README.md', mode: 'symlink' },
      'src/deep/nested/file.txt': 'nested\n',
    },
    'one',
  );
  const c2 = await repo.commit({ 'README.md': '# app v1\n' }, 'two');
  const c3 = await repo.commit({ 'src/new.txt': 'new\n' }, 'three');
  const c4 = await repo.commit({ 'src/deep/nested/file.txt': null, 'README.md': '# app v3\n' }, 'four');
  await repo.tag('v1', c2);
  await repo.tag('v2', c3, { annotated: true });
  await repo.branch('feature', c2);
  await repo.push();
  const server = await startGitServer({ root: join(root, 'srv'), auth: options.auth, ...options.server });
  t.after(() => server.close());
  const remote = { url: server.url('app.git'), auth: options.remoteAuth ?? { kind: 'none' } };
  return { root, repo, server, gitdir: join(root, 'app', '.mfd', 'repo.git'), remote, c: [c1, c2, c3, c4] };
}
