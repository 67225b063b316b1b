import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { tmpRoot } from '../helpers/repo.ts';

const VALID = '[repo]\nurl = "https://h/r"\n[build]\ncommands = []\n';

// A FIFO and /dev/zero given as the config are in test/e2e/errors.test.ts: before the fix they
// held the process for ever, which only a child process that a test can kill may do.
describe('loadConfig: the file itself', () => {
  test('a directory given as the config is refused as not a regular file, exit 2, with a hint', async (t) => {
    const dir = await tmpRoot(t);
    await mkdir(join(dir, 'conf'));
    await assert.rejects(loadConfig(join(dir, 'conf'), {}), (error: Error & { code?: string; exitCode?: number; hint?: string }) => {
      assert.equal(error.code, 'CONFIG_UNREADABLE');
      assert.equal(error.exitCode, 2);
      assert.equal(error.message, `${join(dir, 'conf')} is a directory, not a regular file: mfd reads its config from a regular file`);
      assert.match(error.hint!, /--config/);
      return true;
    });
  });

  test('an mfd.toml of up to 1 MiB loads; one byte more is refused without being parsed', async (t) => {
    const dir = await tmpRoot(t);
    const file = join(dir, 'mfd.toml');
    const padding = (bytes: number) => `#${'x'.repeat(bytes - VALID.length - 2)}\n`;
    await writeFile(file, VALID + padding(1024 * 1024));
    assert.equal((await loadConfig(file, {})).repo.url, 'https://h/r');
    await writeFile(file, VALID + padding(1024 * 1024 + 1));
    await assert.rejects(loadConfig(file, {}), {
      code: 'CONFIG_UNREADABLE',
      message: `${file} is larger than 1 MiB, which no mfd.toml is: is it the right file?`,
    });
  });
});
