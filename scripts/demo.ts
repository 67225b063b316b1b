// `npm run demo`: a real end-to-end run on this machine. A git server on 127.0.0.1 serves the
// example app (examples/app) as a repository with three commits; the real mfd CLI deploys,
// lists, deploys another commit and rolls back in a temporary app root. Where a user systemd can
// be started, the app runs as a real unit and the demo asks it which commit it is serving.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGitServer } from '../test/helpers/git-server.ts';
import { freePort, getText } from '../test/helpers/http.ts';
import { createRepo } from '../test/helpers/repo.ts';
import { startSystemd, systemdAvailable, type UserSystemd } from '../test/helpers/systemd.ts';

const MFD = fileURLToPath(new URL('../dist/mfd.cjs', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../examples/app/', import.meta.url));
const say = (text: string) => process.stdout.write(`\n\u001b[1m== ${text}\u001b[0m\n`);

async function main(): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'mfd-demo-'));
  let systemd: UserSystemd | undefined;
  const server = await startGitServer({ root: join(tmp, 'git') });
  try {
    say('a git server on 127.0.0.1 serves the example app with three commits');
    const repo = await createRepo(join(tmp, 'git'), 'app.git');
    const files = {
      'server.js': await readFile(join(EXAMPLE, 'server.js'), 'utf8'),
      'build.js': await readFile(join(EXAMPLE, 'build.js'), 'utf8'),
      'package.json': await readFile(join(EXAMPLE, 'package.json'), 'utf8'),
    };
    const shas: string[] = [];
    for (const n of [1, 2, 3]) shas.push(await repo.commit({ ...files, 'CHANGELOG.md': `version ${n}\n` }, `version ${n}`));
    await repo.push();
    for (const [i, sha] of shas.entries()) console.log(`  version ${i + 1}: ${sha}`);
    const url = server.url('app.git');

    const root = join(tmp, 'srv-app');
    await mkdir(root);
    const port = await freePort();
    const available = await systemdAvailable();
    let systemdToml = '';
    let env: NodeJS.ProcessEnv = { ...process.env };
    if (available.ok) {
      systemd = await startSystemd(join(tmp, 'systemd'));
      await systemd.installUnit(
        'mfd-demo',
        [
          '[Service]',
          `WorkingDirectory=${root}/active`,
          `ExecStart=${process.execPath} server.js`,
          `Environment=PORT=${port} HOST=127.0.0.1`,
          'Restart=on-failure',
        ].join('\n'),
      );
      systemdToml = '\n[systemd]\nunit = "mfd-demo"\nscope = "user"\n';
      env = { ...env, ...systemd.env };
      console.log(`  a private user systemd runs the app as unit mfd-demo, WorkingDirectory=${root}/active, port ${port}`);
    } else {
      console.log(`  no user systemd here (${available.why}): mfd will deploy but skip the restart`);
    }
    const toml = `[repo]\nurl = "${url}"\n\n[build]\ncommands = [[${JSON.stringify(process.execPath)}, "build.js"]]\n${systemdToml}`;
    await writeFile(join(root, 'mfd.toml'), toml, { mode: 0o600 });
    say(`the app root ${root} holds this mfd.toml`);
    process.stdout.write(toml);

    const run = (args: string[]) => mfd(args, root, env);
    const ask = async () => {
      if (!systemd) return;
      const answer = await getText(port);
      console.log(`  GET http://127.0.0.1:${port}/ → ${answer.trim()}`);
    };

    say(`mfd deploy ${shas[0]!.slice(0, 7)}   (a short sha)`);
    await run(['deploy', shas[0]!.slice(0, 7)]);
    await ask();
    say('mfd deploy   (the remote HEAD: version 3)');
    await run(['deploy']);
    await ask();
    say('mfd ls');
    await run(['ls']);
    say('mfd rollback');
    await run(['rollback']);
    await ask();
    say('mfd ls');
    await run(['ls']);
    say('done: everything above was real; cleaning up');
  } finally {
    await systemd?.stop();
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

function mfd(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  process.stdout.write(`$ mfd ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MFD, ...args], { cwd, env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mfd ${args.join(' ')} exited ${code}`))));
  });
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
