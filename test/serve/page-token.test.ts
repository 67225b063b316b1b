import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpRoot } from '../helpers/repo.ts';
import { parseConfig } from '../../src/config/config.ts';
import { ConfigInvalidError } from '../../src/errors/index.ts';
import { checkAccess, pageAccessOf } from '../../src/serve/page-access.ts';

// serve.status_token_file holds a token that is presented as "Authorization: Bearer <token>"
// (RFC 6750's b64token has no whitespace) or as a basic-auth password: whitespace or a control
// character inside is a second line or a pasted "Bearer ", and only one of the two ways, or
// neither, could ever present it. Refused at start, as repo.token_file and status.token_file are.
describe('serve/page-access: status_token_file', () => {
  test('a token file with whitespace or a control character inside is a config error naming the file, never its contents', async (t) => {
    const root = await tmpRoot(t);
    const file = join(root, 'mfd.toml');
    const serve = parseConfig(`[repo]\nurl = "https://git.example.com/me/app.git"\n[build]\ncommands = []\n[serve]\nstatus_token_file = "token"\n`, { file, env: {} }).config.serve;
    const read = () => pageAccessOf(serve, { file, env: {}, warn: () => {} });
    await writeFile(join(root, 'token'), '  page-tok-5c2e\n', { mode: 0o600 });
    const access = await read();
    assert.equal(access.token?.reveal(), 'page-tok-5c2e', 'surrounding whitespace is trimmed');
    assert.deepEqual(checkAccess({ authorization: 'Bearer page-tok-5c2e' }, access), { ok: true });
    for (const contents of ['Bearer page-tok-5c2e\n', 'page-tok-5c2e\nsecond-line\n', 'page\ttok-5c2e', 'page-tok\u200b5c2e', 'page-tok\u001b5c2e']) {
      await writeFile(join(root, 'token'), contents, { mode: 0o600 });
      await assert.rejects(read(), (error: unknown) => {
        assert.ok(error instanceof ConfigInvalidError, String(error));
        const issue = error.issues[0]!;
        assert.equal(issue.path, 'serve.status_token_file');
        assert.match(issue.message, /token holds whitespace or a control character inside the token.*put the token alone in the file/);
        assert.ok(issue.message.includes(join(root, 'token')), 'names the file');
        assert.ok(!issue.message.includes('-5c2e') && !error.message.includes('-5c2e'), 'never its contents');
        return true;
      }, JSON.stringify(contents));
    }
  });
});
