// Run by scripts/build.mjs in a child process to make one V8 code cache, the same bytes on every
// build: a fresh process under a fixed --random-seed (the why is at CACHE_FLAGS in build.mjs).
//   node --random-seed=N scripts/code-cache.cjs group <wrapped group code> <cache out> <group> <package>...
//   node --random-seed=N scripts/code-cache.cjs main <wrapped main code> <cache out> <its line offset in dist/mfd.cjs>
'use strict';
const { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Script } = require('node:vm');

const [mode, sourceFile, cacheFile, ...rest] = process.argv.slice(2);

if (mode === 'group') {
  // Made after running the group (requiring each package), so it also holds the functions that
  // loading ran. The name is the one the group's stack frames will show.
  const [group, ...packages] = rest;
  const script = new Script(readFileSync(sourceFile, 'utf8'), { filename: `mfd.cjs (vendor ${group})` });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, '', '');
  for (const name of packages) void module.exports[name];
  writeFileSync(cacheFile, script.createCachedData());
} else if (mode === 'main') {
  // Made by running `mfd ls`, so it holds every function that run compiled (reading and validating
  // mfd.toml, listing, output), not just the top level. The name and lines are those stack traces
  // will show (V8 keeps them in the cache): see codeCacheOfMain in build.mjs.
  const script = new Script(readFileSync(sourceFile, 'latin1'), { filename: 'mfd.cjs', lineOffset: Number(rest[0]) });
  // An app root with one (Go-mfd-style, record-less) deployment, so listing has a row to draw.
  const app = mkdtempSync(join(tmpdir(), 'mfd-main-cache-'));
  writeFileSync(join(app, 'mfd.toml'), '[repo]\nurl = "http://127.0.0.1:9/app.git"\n[build]\ncommands = []\n');
  const deployment = `mfd_1700000000_${'0'.repeat(40)}`;
  mkdirSync(join(app, deployment));
  symlinkSync(deployment, join(app, 'active'));
  process.chdir(app);
  process.on('exit', (code) => {
    rmSync(app, { recursive: true, force: true });
    if (code !== 0) return;
    writeFileSync(cacheFile, script.createCachedData());
  });
  process.argv = [process.argv[0], sourceFile, '--ci', 'ls'];
  const main = { exports: {} };
  script.runInThisContext()(main.exports, require, main, sourceFile, app);
} else {
  throw new Error(`unknown mode ${mode}: group or main`);
}
