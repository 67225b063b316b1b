// The parts that run mfd serve and mfd watch on a server, checked for real: systemd's own
// verifier reads each unit (system and user scope), and the polkit rule is run as polkit runs it
// (JavaScript calling polkit.addRule), against the actions systemctl asks polkit about.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { MFD } from '../helpers/cli.ts';
import { tmpRoot } from '../helpers/repo.ts';

const read = (path: string) => readFile(new URL(`../../systemd/${path}`, import.meta.url), 'utf8');
const SYSTEM = ['mfd-serve@.service', 'mfd-watch@.service'];
const USER = SYSTEM.map((u) => `user/${u}`);

function verify(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('systemd-analyze', args, { env }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 127) : 0, output: `${stdout}${stderr}`.trim() }),
    );
  });
}

async function skipUnlessAnalyze(t: TestContext): Promise<boolean> {
  const probe = await verify(['--version'], process.env);
  if (probe.code === 0) return false;
  if (process.env.CI === 'true') assert.fail('systemd-analyze is needed to verify the units');
  t.skip('systemd-analyze is not installed');
  return true;
}

/** The unit as shipped, but starting the mfd this checkout built (verify wants a real executable). */
async function copyForVerify(dir: string, path: string): Promise<string> {
  const text = (await read(path)).replace(/^ExecStart=\S+/m, `ExecStart=${MFD}`);
  const file = join(dir, path.split('/').pop()!);
  await writeFile(file, text);
  return file.replace('@.service', '@app.service');
}

const keys = (text: string) => text.split('\n').filter((l) => /^\w+=/.test(l));

describe('systemd units, polkit rule', () => {
  test('systemd-analyze verify accepts the system units, without a warning', async (t) => {
    if (await skipUnlessAnalyze(t)) return;
    const dir = await tmpRoot(t);
    const units = await Promise.all(SYSTEM.map((u) => copyForVerify(dir, u)));
    const r = await verify(['verify', ...units], process.env);
    assert.equal(r.code, 0, r.output);
    assert.equal(r.output, '');
  });

  test('systemd-analyze --user verify accepts the user units, without a warning', async (t) => {
    if (await skipUnlessAnalyze(t)) return;
    const dir = await tmpRoot(t);
    const run = join(dir, 'run');
    await mkdir(run, { mode: 0o700 });
    const units = await Promise.all(USER.map((u) => copyForVerify(dir, u)));
    const r = await verify(['--user', 'verify', ...units], { ...process.env, XDG_RUNTIME_DIR: run });
    assert.equal(r.code, 0, r.output);
    assert.equal(r.output, '');
  });

  test('the system units run mfd as a dedicated user in /srv/<app>, locked down, the secret as a credential', async () => {
    for (const path of SYSTEM) {
      const lines = keys(await read(path));
      for (const want of ['User=mfd-%i', 'WorkingDirectory=/srv/%i', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'ProtectHome=yes']) {
        assert.ok(lines.includes(want), `${path}: ${want}`);
      }
      assert.ok(lines.some((l) => /^ReadWritePaths=\/srv\/%i( |$)/.test(l)), `${path}: ReadWritePaths for the app root`);
    }
    const serve = keys(await read('mfd-serve@.service'));
    assert.ok(serve.includes('ExecStart=/usr/local/bin/mfd serve --ci'));
    assert.ok(serve.includes('LoadCredential=webhook-secret:/etc/mfd/%i/webhook-secret'));
    assert.ok(keys(await read('mfd-watch@.service')).includes('ExecStart=/usr/local/bin/mfd watch --ci'));
  });

  test('the user units need no root: no User=, the app under the home directory', async () => {
    for (const path of USER) {
      const lines = keys(await read(path));
      assert.ok(!lines.some((l) => l.startsWith('User=')), path);
      assert.ok(lines.includes('WorkingDirectory=%h/apps/%i'), path);
      assert.ok(lines.includes('WantedBy=default.target'), path);
    }
  });

  test('the polkit rule lets mfd-app restart app.service, start app.socket again, clear their failed state, and nothing else', async () => {
    const rules: ((action: unknown, subject: unknown) => unknown)[] = [];
    const polkit = { Result: { YES: 'yes', NO: 'no' }, addRule: (rule: (a: unknown, s: unknown) => unknown) => rules.push(rule) };
    runInNewContext(await read('50-mfd-app.rules'), { polkit });
    assert.equal(rules.length, 1);
    const ask = (user: string, unit: string, verb: string, id = 'org.freedesktop.systemd1.manage-units') =>
      rules[0]!({ id, lookup: (key: string) => ({ unit, verb })[key] }, { user });
    assert.equal(ask('mfd-app', 'app.service', 'restart'), 'yes');
    assert.equal(ask('mfd-app', 'app.service', 'reset-failed'), 'yes');
    assert.equal(ask('mfd-app', 'app.socket', 'start'), 'yes');
    assert.equal(ask('mfd-app', 'app.socket', 'reset-failed'), 'yes');
    for (const [user, unit, verb, id] of [
      ['mfd-app', 'app.service', 'stop'],
      ['mfd-app', 'app.service', 'start'],
      ['mfd-app', 'sshd.service', 'restart'],
      ['mfd-app', 'app.socket', 'stop'],
      ['mfd-app', 'app.socket', 'restart'],
      ['mfd-other', 'app.socket', 'start'],
      ['mfd-app', 'mfd-serve@app.service', 'restart'],
      ['mfd-other', 'app.service', 'restart'],
      ['app', 'app.service', 'restart'],
      ['mfd-app', 'app.service', 'restart', 'org.freedesktop.systemd1.manage-unit-files'],
    ] as const) {
      assert.equal(ask(user, unit, verb, id), undefined, `${user} ${verb} ${unit} ${id ?? ''}`);
    }
  });
});
