// A build step driven by the environment, for lock tests: appends start/end marks, can say that
// it started, wait for a file to appear, and hold for a while, so (non-)overlap is proved by events.
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import type { AppFixture } from './app.ts';

export const HOLD_JS = `
const fs = require('fs');
const e = process.env;
const tag = e.T_TAG || String(process.pid);
if (e.T_MARKS) fs.appendFileSync(e.T_MARKS, 'start ' + tag + '\\n');
if (e.T_STARTED) fs.writeFileSync(e.T_STARTED, tag);
const end = Date.now() + 60000;
(function loop() {
  if (e.T_WAIT_FOR && !fs.existsSync(e.T_WAIT_FOR)) {
    if (Date.now() > end) { console.error('gave up waiting for ' + e.T_WAIT_FOR); process.exit(9); }
    return setTimeout(loop, 10);
  }
  setTimeout(() => {
    if (e.T_MARKS) fs.appendFileSync(e.T_MARKS, 'end ' + tag + '\\n');
    fs.writeFileSync('build-info.json', JSON.stringify({ commit: e.MFD_COMMIT }));
  }, Number(e.T_HOLD_MS || 0));
})();
`;

const node = JSON.stringify(process.execPath);
export const holdConfig = (url: string, lock = '') => `[repo]\nurl = "${url}"\n\n[build]\ncommands = [[${node}, "hold.js"]]\n\n[lock]\n${lock}\n`;
export const commitHold = (app: AppFixture, n: number) => app.commitVersion(n, { extra: { 'hold.js': HOLD_JS } });
export const exists = (p: string) => access(p).then(() => true, () => false);

export async function until(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The first value `probe` gives (a probe that throws or gives undefined is asked again), within `ms`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function assertNoOverlap(marks: string, expected: number): void {
  const lines = marks.trim().split('\n');
  assert.equal(lines.length, expected * 2, marks);
  for (let i = 0; i < lines.length; i += 2) {
    const [s, a] = lines[i]!.split(' ');
    const [e, b] = lines[i + 1]!.split(' ');
    assert.deepEqual([s, e, a], ['start', 'end', b], `builds overlapped:\n${marks}`);
  }
}
