import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { mfd } from '../helpers/cli.ts';
import { startForge } from '../helpers/forge-api.ts';
import { tmpRoot } from '../helpers/repo.ts';

const node = JSON.stringify(process.execPath);
const STATUS_TOKEN = 'status-token-notify-1';
const REPO_TOKEN = 'repo-token-notify-2';
// Writes its whole environment to the file named by its argument.
const RECORD_JS = `require('fs').writeFileSync(process.argv[2], JSON.stringify(process.env)); if (process.env.T_FAIL) { console.error('smtp refused'); process.exit(4); }`;

async function scene(t: TestContext, notify: string) {
  const tmp = await tmpRoot(t);
  const recorder = join(tmp, 'record.js');
  const out = join(tmp, 'notified.json');
  await writeFile(recorder, RECORD_JS);
  const forge = await startForge({ provider: 'github', token: STATUS_TOKEN });
  t.after(() => forge.close());
  const app = await appFixture(t, {
    config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "build.js"]]\n` +
      `[status]\nprovider = "github"\napi_url = "${forge.apiUrl}"\nrepository = "me/app"\ntarget_url_base = "https://mfd.example.com"\n` +
      `[notify]\ncommand = [${node}, ${JSON.stringify(recorder)}, ${JSON.stringify(out)}]\n${notify}`,
  });
  const env = { MFD_STATUS_TOKEN: STATUS_TOKEN, MFD_REPO_TOKEN: REPO_TOKEN, COPY_OF_TOKEN: STATUS_TOKEN, KEEP_ME: 'yes', USER: 'alice' };
  const notified = async (): Promise<Record<string, string> | undefined> => {
    try {
      return JSON.parse(await readFile(out, 'utf8')) as Record<string, string>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  return { app, env, notified, out };
}

describe('notifications (e2e)', () => {
  test('a manual deploy notifies only when "manual" is listed; the command gets the run\'s facts and the environment, never a secret', async (t) => {
    const quiet = await scene(t, '');
    await quiet.app.commitVersion(1);
    assert.equal((await mfd(['deploy'], { cwd: quiet.app.root, env: quiet.env })).code, 0);
    assert.equal(await quiet.notified(), undefined, 'by default only automatic runs notify');

    const { app, env, notified } = await scene(t, 'on = ["manual"]\n');
    const sha = await app.commitVersion(1);
    const r = await mfd(['deploy'], { cwd: app.root, env });
    assert.equal(r.code, 0, r.stderr);
    const seen = (await notified())!;
    const history = JSON.parse((await readFile(join(app.root, '.mfd', 'history.jsonl'), 'utf8')).trim()) as { runId: string };
    assert.equal(seen.MFD_OUTCOME, 'success');
    assert.equal(seen.MFD_SHA, sha);
    assert.equal(seen.MFD_REF, 'refs/heads/main');
    assert.equal(seen.MFD_APP, 'app');
    assert.match(seen.MFD_MESSAGE!, new RegExp(`^deployed ${sha.slice(0, 7)} \\(refs/heads/main\\) in \\d+s$`));
    assert.equal(seen.MFD_RUN_URL, `https://mfd.example.com/runs/${history.runId}`);
    assert.equal(seen.MFD_TRIGGER, 'manual');
    assert.equal(seen.KEEP_ME, 'yes', 'the rest of the environment is passed on');
    for (const name of ['MFD_STATUS_TOKEN', 'MFD_REPO_TOKEN', 'COPY_OF_TOKEN']) assert.equal(seen[name], undefined, name);
    const text = JSON.stringify(seen);
    assert.ok(!text.includes(STATUS_TOKEN) && !text.includes(REPO_TOKEN));
  });

  test('a token variable with a trailing newline is trimmed, and a copy of it as given is still kept from the command', async (t) => {
    const { app, env, notified } = await scene(t, 'on = ["manual"]\n');
    await app.commitVersion(1);
    const r = await mfd(['deploy'], { cwd: app.root, env: { ...env, MFD_STATUS_TOKEN: `${STATUS_TOKEN}\n`, COPY_OF_TOKEN: `${STATUS_TOKEN}\n` } });
    assert.equal(r.code, 0, r.stderr);
    const seen = (await notified())!;
    assert.equal(seen.COPY_OF_TOKEN, undefined);
    assert.ok(!JSON.stringify(seen).includes(STATUS_TOKEN));
  });

  test('with on = ["failure", "manual"] a failed build notifies and a success does not; a failing command is an error line, never the exit code', async (t) => {
    const { app, env, notified, out } = await scene(t, 'on = ["failure", "manual"]\n');
    await app.commitVersion(1, { fail: true });
    assert.equal((await mfd(['deploy'], { cwd: app.root, env })).code, 5);
    const seen = (await notified())!;
    assert.equal(seen.MFD_OUTCOME, 'failure');
    assert.equal(seen.MFD_RESULT, 'failed');
    assert.match(seen.MFD_MESSAGE!, /^deploy failed: build command \[.*\] failed with exit status 3/);

    const { rm } = await import('node:fs/promises');
    await rm(out);
    await app.commitVersion(2);
    assert.equal((await mfd(['deploy'], { cwd: app.root, env })).code, 0);
    assert.equal(await notified(), undefined);

    await app.commitVersion(3, { fail: true });
    const r = await mfd(['deploy'], { cwd: app.root, env: { ...env, T_FAIL: '1' } });
    assert.equal(r.code, 5, 'the build\'s failure is the outcome, not the notification\'s');
    assert.match(r.stderr, /warning: notify command \[.*\] failed with exit status 4: smtp refused/);
    const logs = (await readdir(join(app.root, '.mfd', 'logs'))).sort();
    assert.match(await readFile(join(app.root, '.mfd', 'logs', logs.at(-1)!), 'utf8'), /^error: notify command \[.*\] failed with exit status 4: smtp refused$/m);
    await access(out);
  });
});
