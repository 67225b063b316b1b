// mfd's output sent to a file on a full disk (`mfd ls > /full/out`): the command's result is lost,
// so it fails as a full disk does (exit 9, the file named, a hint), never as an internal error with
// a stack trace; and a full stderr never turns into a failure of its own.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { tmpRoot } from '../helpers/repo.ts';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.ts';

/** Runs mfd in the tmpfs' namespace with its stdout, its stderr or both on `file` there. */
async function runInto(fs: Tmpfs, file: string, args: string[], on: 'stdout' | 'stderr' | 'both' = 'stdout'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const fd = openSync(fs.at(file), 'w');
  try {
    const { bin, args: argv } = fs.mfdArgs(args);
    const child = spawn(bin, argv, { stdio: ['ignore', on === 'stderr' ? 'pipe' : fd, on === 'stdout' ? 'pipe' : fd], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    return { code, stdout, stderr };
  } finally {
    closeSync(fd);
  }
}

describe('output to a full disk (e2e, a real tmpfs in a private mount namespace)', () => {
  test('a result that cannot be written exits 9 naming the file, and a full stderr is no failure of its own', async (t) => {
    const root = await tmpRoot(t);
    const app = join(root, 'app');
    const full = join(root, 'full');
    mkdirSync(app);
    mkdirSync(full);
    writeFileSync(join(app, 'mfd.toml'), '[repo]\nurl = "https://example.invalid/app.git"\n\n[build]\ncommands = [["true"]]\n');
    const fs = await mountTmpfs(t, full, '64k');
    if (!fs) return;
    fs.fill(join(full, 'filler'));
    const out = join(full, 'out');

    for (const args of [['-C', app, 'status'], ['--version'], ['-C', app, 'ls', '--json']]) {
      const r = await runInto(fs, out, args);
      assert.equal(r.code, 9, `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /internal error|this is a bug|    at /, r.stderr);
      if (!args.includes('--json')) {
        assert.match(r.stderr, new RegExp(`^error: cannot write mfd's output to ${out} \\(stdout\\): no space left on device \\(ENOSPC\\)\\n  hint: only the output is lost, the command ran \\(mfd ls and mfd history show what it did\\); free space on that file system \\(df -h ${full}\\), or send the output elsewhere$`, 'm'));
      }
    }
    // stdout and stderr both on the full file: nothing can be said, and the exit code says it.
    const both = await runInto(fs, out, ['-C', app, 'status'], 'both');
    assert.equal(both.code, 9);
    // Only stderr full: the outcome is the command's own, however its lines fared.
    assert.equal((await runInto(fs, out, ['-C', join(root, 'nowhere'), 'ls'], 'stderr')).code, 2, 'the config error, not an internal one');
  });

  test('a deploy whose progress goes to a full disk (2>>/full/log) still deploys', async (t) => {
    const app = await appFixture(t);
    const full = join(app.root, '..', 'full');
    mkdirSync(full);
    const fs = await mountTmpfs(t, full, '64k');
    if (!fs) return;
    fs.fill(join(full, 'filler'));
    const sha = await app.commitVersion(1);
    const r = await runInto(fs, join(full, 'log'), ['-C', app.root, 'deploy'], 'stderr');
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, new RegExp(`^${sha} \\(active\\)$`, 'm'));
    assert.match(readlinkSync(join(app.root, 'active')), new RegExp(`_${sha}$`));
  });
});
