import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appFixture } from '../helpers/app.ts';
import { mfd, startMfd } from '../helpers/cli.ts';
import { deployInProcess } from '../helpers/context.ts';
import { IN_PID_NAMESPACE, testInPidNamespace } from '../helpers/pidns-file.ts';
import { isRunning, processStart } from '../../src/sys/process.ts';
import { snapshotTree } from '../helpers/snapshot.ts';
import { until } from '../helpers/hold.ts';

// Everything here may signal process groups (mfd's recovery does), so it runs only inside a
// private pid namespace: this file re-runs itself there, and a mistake cannot reach the machine.
if (!IN_PID_NAMESPACE) {
  testInPidNamespace('orphaned builds and recovery (inside a private pid namespace)', import.meta.filename);
} else {
  const node = JSON.stringify(process.execPath);
  // Blocks for ever after writing its pid when T_STARTED is set; otherwise a normal quick build.
  const HOLD = `const fs = require('fs'); if (process.env.T_STARTED) { fs.writeFileSync(process.env.T_STARTED, String(process.pid)); setInterval(() => {}, 1000); } else { fs.writeFileSync('build-info.json', JSON.stringify({ commit: process.env.MFD_COMMIT })); }`;
  const config = (url: string) => `[repo]\nurl = "${url}"\n[build]\ncommands = [[${node}, "hold.js"]]\n`;



  /** A process of our own that exits at once: its pid is free afterwards (a deploy that is gone). */
  async function deadPid(): Promise<number> {
    const c = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(c, 'exit');
    return c.pid!;
  }

  describe('orphaned builds (e2e, private pid namespace)', () => {
    test('recovery never signals a process group it cannot prove is the build, and never acts on an invalid record', async (t) => {
      const app = await appFixture(t, { config });
      const sha = await app.commitVersion(1, { extra: { 'hold.js': HOLD } });
      await deployInProcess(app.root);

      // Unrelated long-lived processes: one leading its own group (as a build would), one not.
      const unrelated = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
      const member = spawn('sleep', ['1000'], { stdio: 'ignore' });
      // Whatever happens, they must not keep this file's process (and so the namespace) alive.
      t.after(() => {
        unrelated.kill('SIGKILL');
        member.kill('SIGKILL');
      });
      await until(async () => (await processStart(unrelated.pid!)) !== undefined && (await processStart(member.pid!)) !== undefined, 'sleep to start');
      const start = (await processStart(unrelated.pid!))!;
      const gone = await deadPid();

      const at = '2026-01-01T00:00:00.000Z';
      let n = 0;
      const building = (fields: Record<string, unknown>) => {
        const s = (++n).toString(16).padStart(40, 'e');
        const name = `mfd_${1_700_000_000 + n}_${s}`;
        return { name, sha: s, ref: 'main', fingerprint: 'f', state: 'building', createdAt: at, updatedAt: at, pid: gone, ...fields };
      };
      // Valid records whose group may not be signalled: repaired (marked failed, removed), unsignalled.
      const repaired = [
        building({ buildPgid: unrelated.pid, buildPgidStart: String(Number(start) + 1) }),
        building({ buildPgid: unrelated.pid }),
        building({ buildPgid: member.pid, buildPgidStart: await processStart(member.pid!) }),
        building({ buildPgid: 1, buildPgidStart: '1' }),
        building({ buildPgid: 2 ** 40, buildPgidStart: '1' }),
        // Its deploy's pid is alive but started at another time: the pid was reused, the deploy is gone.
        building({ pid: unrelated.pid, pidStart: String(Number(start) + 1), buildPgid: unrelated.pid, buildPgidStart: '1' }),
      ];
      // Invalid records: ignored with a warning, never acted on.
      const invalid = [building({ buildPgid: 0 }), building({ buildPgid: -1 }), building({ buildPgid: 'abc' }), building({ pid: 0 })];
      const misnamed = building({ buildPgid: unrelated.pid, buildPgidStart: start });
      const records = join(app.root, '.mfd', 'deployments');
      for (const r of [...repaired, ...invalid]) {
        await mkdir(join(app.root, r.name));
        await writeFile(join(app.root, r.name, 'half-built'), 'x');
        await writeFile(join(records, `${r.name}.json`), JSON.stringify(r));
      }
      // A valid record under another deployment's file name: it is not that deployment's.
      const victim = `mfd_1600000000_${'d'.repeat(40)}`;
      await mkdir(join(app.root, victim));
      await writeFile(join(records, `${victim}.json`), JSON.stringify(misnamed));

      const before = await snapshotTree(app.root);
      const ls = await mfd(['ls'], { cwd: app.root });
      assert.equal(ls.code, 0, ls.stderr);
      for (const r of repaired) assert.match(ls.stdout, new RegExp(`^${r.sha} \\(interrupted\\)$`, 'm'));
      for (const r of invalid) assert.match(ls.stdout, new RegExp(`^${r.sha} \\(invalid\\)$`, 'm'));
      assert.match(ls.stderr, /warning: ignored .*\.json: buildPgid: /);
      assert.deepEqual(await snapshotTree(app.root), before, 'ls changes nothing');

      const r = await mfd(['deploy', sha], { cwd: app.root });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await isRunning(unrelated.pid!), true, 'the unrelated group lives');
      assert.equal(await isRunning(member.pid!), true);
      assert.match(r.stderr, new RegExp(`did not signal process group ${unrelated.pid} recorded for ${repaired[0]!.name}: pid ${unrelated.pid} now belongs to another process`));
      assert.match(r.stderr, new RegExp(`did not signal process group ${unrelated.pid} recorded for ${repaired[1]!.name}: no start time was recorded`));
      assert.match(r.stderr, new RegExp(`did not signal process group ${member.pid} recorded for ${repaired[2]!.name}: process ${member.pid} no longer leads`));
      assert.match(r.stderr, new RegExp(`did not signal process group 1 recorded for ${repaired[3]!.name}: 1 is not a pid mfd may signal`));
      assert.doesNotMatch(r.stderr, /stopped process group/);
      const names = await readdir(app.root);
      for (const x of repaired) {
        assert.ok(!names.includes(x.name), `${x.name} removed`);
        const rec = JSON.parse(await readFile(join(records, `${x.name}.json`), 'utf8'));
        assert.equal(rec.state, 'failed');
        assert.match(rec.error, /interrupted/);
      }
      for (const x of invalid) {
        assert.ok(names.includes(x.name), `${x.name} kept: its record is not trusted`);
        assert.deepEqual(JSON.parse(await readFile(join(records, `${x.name}.json`), 'utf8')), x);
      }
      assert.ok(names.includes(victim));
      assert.match(r.stderr, new RegExp(`ignored .*${victim}\\.json: it names ${misnamed.name}, not ${victim}`));
    });

    test('a build left running by a killed deploy: read-only commands show it interrupted and change nothing; the next deploy stops it', async (t) => {
      const app = await appFixture(t, { config });
      await app.commitVersion(1, { extra: { 'hold.js': HOLD } });
      await deployInProcess(app.root);
      const next = await app.commitVersion(2, { extra: { 'hold.js': HOLD } });
      const started = join(app.root, '..', 'build-started');
      const run = startMfd(['deploy'], { cwd: app.root, env: { T_STARTED: started } });
      t.after(() => run.child.kill('SIGKILL'));
      await until(async () => (await readFile(started, 'utf8').catch(() => '')) !== '', `the build to start:\n${run.output()}`);
      const buildPid = Number(await readFile(started, 'utf8'));
      await until(async () => /"buildPgidStart"/.test(await readRecordText(app.root, next)), 'the build pgid to be recorded');

      const during = await mfd(['ls'], { cwd: app.root });
      assert.match(during.stdout, new RegExp(`^${next} \\(building\\)$`, 'm'), 'a live build is in progress, not interrupted');
      const status = await mfd(['status'], { cwd: app.root });
      assert.match(status.stdout, /^build: +mfd_\d+_[0-9a-f]{40} in progress$/m);
      assert.match(status.stdout, new RegExp(`^running: +deploy by .*@.* pid ${run.child.pid} since `, 'm'));

      run.child.kill('SIGKILL');
      await run.done;
      assert.equal(await isRunning(buildPid), true, 'the build outlives mfd: exactly the hazard recovery handles');

      const before = await snapshotTree(app.root);
      const outputs: Record<string, string> = {};
      for (const args of [['ls'], ['ls', '--json'], ['status'], ['status', '--json'], ['history'], ['history', '--json'], ['logs'], ['lock', 'list'], ['lock', 'list', '--json'], ['resolve', 'main']]) {
        const r = await mfd(args, { cwd: app.root });
        assert.equal(r.code, 0, `mfd ${args.join(' ')}: ${r.stderr}`);
        outputs[args.join(' ')] = r.stdout;
      }
      assert.deepEqual(await snapshotTree(app.root), before, 'read-only commands change nothing on disk');
      assert.equal(await isRunning(buildPid), true, 'and signal nothing');
      assert.match(outputs.ls!, new RegExp(`^${next} \\(interrupted\\)$`, 'm'));
      assert.equal(JSON.parse(outputs['ls --json']!).find((d: { sha: string }) => d.sha === next).state, 'interrupted');
      assert.match(outputs.status!, /^build: +mfd_\d+_[0-9a-f]{40} interrupted \(its deploy is gone; the next deploy or rollback removes it\)$/m);
      assert.doesNotMatch(outputs.status!, /^running:/m);
      assert.match(outputs['lock list']!, /\[stale: its process \d+ is gone\]/);

      const r = await mfd(['deploy'], { cwd: app.root });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`stopped process group ${buildPid}, the build of mfd_\\d+_${next} its deploy left running`));
      assert.match(r.stderr, /marked mfd_\d+_[0-9a-f]{40} failed and removed it: the deploy building it was interrupted/);
      assert.equal(await isRunning(buildPid), false, 'recovery stopped the orphaned build');
      assert.match(await readlink(join(app.root, 'active')), new RegExp(`_${next}$`));
    });
  });

  async function readRecordText(root: string, sha: string): Promise<string> {
    const dir = join(root, '.mfd', 'deployments');
    const file = (await readdir(dir).catch(() => [] as string[])).find((f) => f.endsWith(`_${sha}.json`));
    return file ? readFile(join(dir, file), 'utf8').catch(() => '') : '';
  }
}
