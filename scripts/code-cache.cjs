// Run by scripts/build.mjs in a child process to make one V8 code cache, the same bytes on every
// build: a fresh process under a fixed --random-seed (the why is at CACHE_FLAGS in build.mjs).
// The cache is made under the code file's own name (V8 keeps it: stack traces show it).
//   node --random-seed=N scripts/code-cache.cjs group <dir/mfd-GROUP.js> <cache out> <package>...
//   node --random-seed=N scripts/code-cache.cjs main <dir/mfd-main.js> <cache out>
'use strict';
const { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { basename, dirname, join } = require('node:path');
const { Script } = require('node:vm');

const [mode, sourceFile, cacheFile, ...rest] = process.argv.slice(2);
const script = new Script(readFileSync(sourceFile, 'latin1'), { filename: basename(sourceFile) });

if (mode === 'group') {
  // Made after running the group (requiring each package), so it also holds the functions that
  // loading ran.
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, '', '');
  for (const name of rest) void module.exports[name];
  writeFileSync(cacheFile, script.createCachedData());
} else if (mode === 'main') {
  // Made by running `mfd ls`, so it holds every function that run compiled (reading and validating
  // mfd.toml, listing, output), not just the top level.
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
  const loader = join(dirname(sourceFile), 'mfd.cjs');
  process.argv = [process.argv[0], loader, '--ci', 'ls'];
  const main = { exports: {} };
  script.runInThisContext()(main.exports, require, main, loader, dirname(sourceFile));
} else {
  throw new Error(`unknown mode ${mode}: group or main`);
}
