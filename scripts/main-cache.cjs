// Run by scripts/build.mjs in a child process with no extra flags (V8 takes a code cache only
// under the flags that made it): compiles mfd's main code the way dist/mfd.cjs does, runs
// `mfd ls` with it in a scratch app root, and writes V8's code cache, which then holds every
// function that run compiled (reading and validating mfd.toml, listing, output), not just the top
// level. Usage: node scripts/main-cache.cjs <wrapped main code> <its line offset in dist/mfd.cjs> <cache out>
'use strict';
const { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Script } = require('node:vm');

const [sourceFile, lineOffset, cacheFile] = process.argv.slice(2);
// The name and lines stack traces will show (V8 keeps them in the cache): see scripts/build.mjs.
const script = new Script(readFileSync(sourceFile, 'latin1'), { filename: 'mfd.cjs', lineOffset: Number(lineOffset) });

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
