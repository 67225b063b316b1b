import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { mfd, type MfdResult } from '../helpers/cli.ts';
import { mountTmpfs } from '../helpers/tmpfs.ts';

/** No stack trace, no "internal error": what every failure here must look like. */
function assertClean(r: MfdResult): void {
  assert.doesNotMatch(r.stderr, /internal error|this is a bug|    at /, r.stderr);
}

// The build fills the disk, then prints far more than a log page holds: mfd's own append fails.
const FILL_BUILD = `
const fs = require('fs');
const fd = fs.openSync('blob', 'w');
try { for (;;) fs.writeSync(fd, Buffer.alloc(65536)); } catch (e) { console.error('build: ' + e.code); }
for (let i = 0; i < 20000; i++) console.log('x'.repeat(100));
process.exit(1);
`;

// Fills the disk and exits 0, saying nothing: the next build command starts on a full disk.
const FILL_QUIET = `
const fs = require('fs');
const fd = fs.openSync('blob', 'w');
try { for (;;) fs.writeSync(fd, Buffer.alloc(65536)); } catch {}
`;

describe('a full disk (e2e, a real tmpfs in a private mount namespace)', () => {
  test('with 0 bytes free ls, status, rollback and a redeploy of a built sha work; new deploys exit 9 and leave nothing behind', async (t) => {
    const app = await appFixture(t);
    const fs = await mountTmpfs(t, app.root, '8m');
    if (!fs) return;
    const root = app.root;
    const inNs = (p: string) => fs.at(join(root, p));
    const run = (args: string[]) => {
      const { bin, args: argv } = fs.mfdArgs(['-C', root, ...args]);
      return mfd(argv, { bin });
    };
    writeFileSync(inNs('mfd.toml'), `[repo]\nurl = "${app.url}"\n\n[build]\ncommands = [[${JSON.stringify(process.execPath)}, "build.js"]]\n\n[deploy]\nmin_free = "0B"\n`);
    const sha1 = await app.commitVersion(1);
    const sha2 = await app.commitVersion(2);
    assert.equal((await run(['deploy', sha1])).code, 0);
    const second = await run(['deploy', sha2]);
    assert.equal(second.code, 0, second.stderr);
    const sha3 = await app.commitVersion(3);

    // What a deploy killed mid-build leaves: its directory, still marked building (pid long gone).
    const killed = `mfd_1700000000_${sha3}`;
    mkdirSync(inNs(killed));
    // One page: removing it frees just what the failed record needs, so the rollback runs on a full disk.
    writeFileSync(inNs(`${killed}/half.bin`), 'x');
    const at = new Date().toISOString();
    writeFileSync(inNs(`.mfd/deployments/${killed}.json`), JSON.stringify({ name: killed, sha: sha3, ref: sha3, fingerprint: '', state: 'building', createdAt: at, updatedAt: at, pid: 99_999_999 }));
    fs.fill(join(root, 'filler'));
    assert.equal(statfsSync(inNs('.')).bavail, 0, 'the file system is full');

    // ls and status only read: they show the interrupted build and leave it to the next deploy or rollback.
    const ls = await run(['ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.equal(ls.stdout, `${sha3} (interrupted)\n${sha2} (active)\n${sha1}\n`);
    const status = await run(['status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`active: +${sha2}`));
    assert.equal(statfsSync(inNs('.')).bavail, 0, 'the read-only commands wrote nothing');

    // Recovery (under the lock) removes the directory first, which frees the space its failed record needs.
    const rollback = await run(['rollback']);
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.ok(!existsSync(inNs(killed)));
    assert.equal(JSON.parse(readFileSync(inNs(`.mfd/deployments/${killed}.json`), 'utf8')).state, 'failed');
    assert.match(readlinkSync(inNs('active')), new RegExp(`_${sha1}$`));
    assert.ok(!existsSync(inNs('.mfd-deploy.lock')), 'the lock is released');
    assertClean(rollback);
    fs.fill(join(root, 'filler'));
    const redeploy = await run(['deploy', sha2]);
    assert.equal(redeploy.code, 0, redeploy.stderr);
    assert.match(redeploy.stderr, /reusing mfd_\d+_[0-9a-f]{40}: already built/);
    assert.match(readlinkSync(inNs('active')), new RegExp(`_${sha2}$`));

    const full = await run(['deploy', sha3]);
    assert.equal(full.code, 9, full.stderr);
    assertClean(full);
    assert.match(full.stderr, /^error: cannot write \S+: no space left on device \(ENOSPC\)\n  hint: free space on that file system \(df -h \S+; \"mfd ls\" shows old deployments\); a rollback or a redeploy of a built sha still works/m);
    const leftovers = () => readdirSync(inNs('.')).filter((n) => (n.endsWith(sha3) && n !== killed) || n === '.mfd-deploy.lock');
    assert.deepEqual(leftovers(), []);
    assert.deepEqual(readdirSync(inNs('.mfd/deployments')).filter((n) => n.includes('.tmp-')), [], 'no temp file left');

    // Some space, but not enough for the checkout's 2 MiB file (a tiny pack: the fetch succeeds).
    rmSync(inNs('filler'));
    const sha4 = await app.commitVersion(4, { extra: { 'big.txt': 'x'.repeat(2 * 1024 ** 2) } });
    const room = statfsSync(inNs('.'));
    writeFileSync(inNs('filler'), Buffer.alloc(Math.max(0, (room.bavail - 128) * room.bsize)));
    const checkout = await run(['deploy', sha4]);
    assert.equal(checkout.code, 9, checkout.stderr);
    assertClean(checkout);
    assert.match(checkout.stderr, /^error: cannot write \S+_[0-9a-f]{40}\/\S+: no space left on device \(ENOSPC\)$/m);
    assert.deepEqual(readdirSync(inNs('.')).filter((n) => n.endsWith(sha4)), [], 'the half-written directory is gone');
    const record4 = readdirSync(inNs('.mfd/deployments')).find((n) => n.includes(sha4))!;
    assert.equal(JSON.parse(readFileSync(inNs(`.mfd/deployments/${record4}`), 'utf8')).state, 'failed');

    // The build fills what is left; mfd's own write of its output fails: exit 9, not the build's 5.
    rmSync(inNs('filler'));
    const sha5 = await app.commitVersion(5, { extra: { 'build.js': FILL_BUILD } });
    const build = await run(['deploy', sha5]);
    assert.equal(build.code, 9, build.stderr.slice(-2000));
    assertClean(build);
    assert.match(build.stderr, /^error: cannot write \S+\.mfd\/logs\/\S+\.log: no space left on device \(ENOSPC\)$/m);
    assert.deepEqual(readdirSync(inNs('.')).filter((n) => n.endsWith(sha5)), [], 'the directory that filled the disk is gone');
    const record5 = readdirSync(inNs('.mfd/deployments')).find((n) => n.includes(sha5))!;
    assert.equal(JSON.parse(readFileSync(inNs(`.mfd/deployments/${record5}`), 'utf8')).state, 'failed');
    assert.match(readlinkSync(inNs('active')), new RegExp(`_${sha2}$`), 'active never moved');
    const after = await run(['ls']);
    assert.equal(after.stdout, `${sha2} (active)\n${sha1}\n`);

    // The first build command fills the disk quietly; the second starts on it, so the record of its
    // process group cannot be written while it runs. That failure waits for the build's end: exit 9,
    // never an unhandled rejection (it once crashed mfd with a stack trace, depending on timing).
    const node = JSON.stringify(process.execPath);
    writeFileSync(inNs('mfd.toml'), `[repo]\nurl = "${app.url}"\n\n[build]\ncommands = [[${node}, "fill.js"], [${node}, "wait.js"]]\n\n[deploy]\nmin_free = "0B"\n`);
    const sha6 = await app.commitVersion(6, { extra: { 'fill.js': FILL_QUIET, 'wait.js': 'setTimeout(() => {}, 1500);\n' } });
    const onFull = await run(['deploy', sha6]);
    assert.equal(onFull.code, 9, onFull.stderr.slice(-2000));
    assertClean(onFull);
    assert.deepEqual(readdirSync(inNs('.')).filter((n) => n.endsWith(sha6)), [], 'the directory that filled the disk is gone');
    assert.match(readlinkSync(inNs('active')), new RegExp(`_${sha2}$`), 'active never moved');
  });
});
