import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appFixture } from '../helpers/app.ts';
import { mfd } from '../helpers/cli.ts';
import { startForge } from '../helpers/forge-api.ts';

const TOKEN = 'tok_EnvVar9QvSECRET42';

describe('tokens from the environment (e2e)', () => {
  test('MFD_REPO_TOKEN with a trailing newline, as $(cat file) or an EnvironmentFile= line gives it, authenticates as the token alone', async (t) => {
    const app = await appFixture(t, {
      auth: { username: 'mfd', password: TOKEN },
      config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = []\n`,
    });
    const sha = await app.commitVersion(1);
    for (const value of [`${TOKEN}\n`, `${TOKEN}\r\n`, ` ${TOKEN}\t`]) {
      const r = await mfd(['resolve', 'main'], { cwd: app.root, env: { MFD_REPO_TOKEN: value } });
      assert.equal(r.code, 0, `${JSON.stringify(value)}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(sha));
    }
  });

  test('MFD_STATUS_TOKEN with a trailing newline is sent as the token alone, never a newline in the header', async (t) => {
    const forge = await startForge({ provider: 'github', token: TOKEN });
    t.after(() => forge.close());
    const app = await appFixture(t, {
      config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = []\n[status]\nprovider = "github"\napi_url = "${forge.apiUrl}"\nrepository = "me/app"\n`,
    });
    const sha = await app.commitVersion(1);
    const r = await mfd(['deploy'], { cwd: app.root, env: { MFD_STATUS_TOKEN: `${TOKEN}\n` } });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /not posted/);
    assert.deepEqual(forge.accepted().map((p) => [p.sha, p.state]), [[sha, 'pending'], [sha, 'success']]);
  });

  test('a token variable that is blank or holds whitespace inside is a config error naming the variable, exit 2, never quoting it', async (t) => {
    const forge = await startForge({ provider: 'github', token: TOKEN });
    t.after(() => forge.close());
    const app = await appFixture(t, {
      config: (url) => `[repo]\nurl = "${url}"\n[build]\ncommands = []\n[status]\nprovider = "github"\napi_url = "${forge.apiUrl}"\nrepository = "me/app"\n`,
    });
    await app.commitVersion(1);
    const cases: [string, string, RegExp][] = [
      ['MFD_REPO_TOKEN', ' \n', /MFD_REPO_TOKEN: is set in the environment but holds only whitespace/],
      ['MFD_REPO_TOKEN', `${TOKEN}\nsecond-line`, /MFD_REPO_TOKEN: is set in the environment to a value with whitespace or a control character inside/],
      ['MFD_STATUS_TOKEN', `Bearer ${TOKEN}`, /MFD_STATUS_TOKEN: is set in the environment to a value with whitespace or a control character inside/],
      ['MFD_STATUS_TOKEN', `${TOKEN}\u001b[2J`, /MFD_STATUS_TOKEN: is set in the environment to a value with whitespace or a control character inside/],
    ];
    for (const [name, value, why] of cases) {
      const r = await mfd(['deploy', '--verbose'], { cwd: app.root, env: { [name]: value } });
      assert.equal(r.code, 2, `${name}=${JSON.stringify(value)}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^error: .*mfd\\.toml: ${why.source}`, 'm'));
      assert.ok(!(r.stdout + r.stderr).includes(TOKEN), 'the value is never shown');
      assert.doesNotMatch(r.stderr, /internal error/);
    }
    assert.equal(forge.requests.length, 0, 'nothing was deployed, so nothing was posted');
  });
});
