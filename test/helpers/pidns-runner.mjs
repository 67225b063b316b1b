// Runs as pid 1 of a private pid namespace (see pidns.ts): starts processes, waits for their
// output or for files, signals them, and finally reports, as JSON on stdout, how each ended and
// which processes are still alive in the namespace. Plain JavaScript: node runs it without tsx.
import { spawn } from 'node:child_process';
import { access, readdir, readFile } from 'node:fs/promises';

const actions = JSON.parse(process.argv[2]);
const procs = new Map();
const checks = [];

async function until(what, ok, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function alive() {
  const found = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || entry === String(process.pid)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (state === 'Z' || state === 'X') continue; // dead, waiting to be reaped
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      found.push({ pid: Number(entry), state, cmdline });
    } catch {
      // Gone between readdir and read: not alive.
    }
  }
  return found;
}

let error;
try {
  for (const a of actions) {
    if (a.op === 'start') {
      const child = spawn(a.argv[0], a.argv.slice(1), { cwd: a.cwd, env: { ...process.env, ...a.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      const p = { child, stdout: '', stderr: '', exit: undefined };
      child.stdout.on('data', (d) => (p.stdout += d));
      child.stderr.on('data', (d) => (p.stderr += d));
      p.done = new Promise((resolve) => child.on('close', (code, signal) => resolve((p.exit = { code, signal }))));
      procs.set(a.id, p);
    } else if (a.op === 'waitOutput') {
      const p = procs.get(a.id);
      await until(`${a.id} to print ${JSON.stringify(a.text)}`, () => {
        if (p.exit) throw new Error(`${a.id} exited before printing ${JSON.stringify(a.text)}`);
        return (p.stdout + p.stderr).includes(a.text);
      });
    } else if (a.op === 'waitFile') {
      await until(`${a.path} to appear`, () => access(a.path).then(() => true, () => false), a.ms ?? 30_000);
    } else if (a.op === 'checkFile') {
      checks.push({ path: a.path, exists: await access(a.path).then(() => true, () => false) });
    } else if (a.op === 'signal') {
      procs.get(a.id).child.kill(a.signal);
    } else if (a.op === 'exit') {
      const p = procs.get(a.id);
      await Promise.race([p.done, until(`${a.id} to exit`, () => false, a.ms ?? 30_000)]);
    } else {
      throw new Error(`unknown action ${a.op}`);
    }
  }
} catch (e) {
  error = String(e);
}
// Whatever outlives its mfd: a process it started and failed to stop. Let dying ones finish.
let leftover = await alive();
const end = Date.now() + 10_000;
while (leftover.length > 0 && !error && Date.now() < end) {
  await new Promise((r) => setTimeout(r, 20));
  leftover = await alive();
}
const results = Object.fromEntries([...procs].map(([id, p]) => [id, { ...p.exit, stdout: p.stdout, stderr: p.stderr }]));
process.stdout.write(JSON.stringify({ results, checks, leftover, error }));
// pid 1 of the namespace: when it ends, the kernel kills whatever is left in it.
process.exit(0);
