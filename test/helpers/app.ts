// An app root and a served repo for end-to-end tests: a bare repo on a real git server, and an
// mfd.toml beside which deployments land. Build steps are tiny real node scripts in the repo.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startGitServer, type GitServer, type GitServerOptions } from './git-server.ts';
import { createRepo, tmpRoot, type TestRepo } from './repo.ts';

export const BUILD_JS = `
const fs = require('fs');
if (fs.existsSync('fail-build')) { console.log('compiling...'); console.error('error: the build broke'); process.exit(3); }
fs.writeFileSync('build-info.json', JSON.stringify({ commit: process.env.MFD_COMMIT, ref: process.env.MFD_REF, dir: process.env.MFD_DEPLOYMENT_DIR }));
console.log('built ' + process.env.MFD_COMMIT);
`;

/**
 * The default build, as a shell script: the same as BUILD_JS (fails with status 3 on `fail-build`,
 * writes build-info.json, says what it built), but a shell starts in a millisecond where node
 * takes some 70 ms of CPU, and most deploys in the suite run this build.
 */
export const BUILD_SH = `if [ -e fail-build ]; then echo 'compiling...'; echo 'error: the build broke' >&2; exit 3; fi
printf '{"commit":"%s","ref":"%s","dir":"%s"}' "$MFD_COMMIT" "$MFD_REF" "$MFD_DEPLOYMENT_DIR" > build-info.json
echo "built $MFD_COMMIT"
`;

/** The [build] commands line of the default config (TOML). */
export const BUILD_COMMANDS = 'commands = [["sh", "build.sh"]]';

export interface AppFixture {
  root: string;
  server: GitServer;
  repo: TestRepo;
  url: string;
  /** Commits a version of the app; `fail` makes its build exit 3. */
  commitVersion(n: number, options?: { fail?: boolean; extra?: Record<string, string> }): Promise<string>;
  writeConfig(text: string): Promise<void>;
}

export async function appFixture(
  t: TestContext,
  options: {
    auth?: { username: string; password: string };
    config?: (url: string) => string;
    beforeChunk?: GitServerOptions['beforeChunk'];
    maxChunk?: GitServerOptions['maxChunk'];
  } = {},
): Promise<AppFixture> {
  const tmp = await tmpRoot(t);
  const server = await startGitServer({
    root: join(tmp, 'git'),
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.beforeChunk ? { beforeChunk: options.beforeChunk } : {}),
    ...(options.maxChunk ? { maxChunk: options.maxChunk } : {}),
  });
  t.after(() => server.close());
  const repo = await createRepo(join(tmp, 'git'), 'app.git');
  const root = join(tmp, 'app');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(root);
  const url = server.url('app.git');
  const fixture: AppFixture = {
    root,
    server,
    repo,
    url,
    async commitVersion(n, opts = {}) {
      const sha = await repo.commit(
        {
          'build.js': BUILD_JS,
          'build.sh': BUILD_SH,
          'version.txt': `${n}\n`,
          'fail-build': opts.fail ? 'yes\n' : null,
          ...opts.extra,
        },
        `version ${n}`,
      );
      await repo.push();
      return sha;
    },
    writeConfig: (text) => writeFile(join(root, 'mfd.toml'), text, { mode: 0o600 }),
  };
  await fixture.writeConfig(
    options.config?.(url) ??
      `[repo]\nurl = "${url}"\n\n[build]\n${BUILD_COMMANDS}\n`,
  );
  return fixture;
}
