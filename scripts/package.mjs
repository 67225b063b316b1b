// `npm run package`: turns the bundled CLI (dist/mfd.cjs) into one standalone executable with
// Node's single executable application support: the node binary with the script injected
// (postject), so a server needs neither Node nor node_modules. Usage: node scripts/package.mjs [--out FILE]
// The script is dist/mfd.cjs's loader reading from the executable's assets (scripts/loader.mjs):
// every code file of dist/ and its code caches travel as assets of the same names, read with
// node:sea, so the single binary compiles mfd's code with the caches dist/mfd.cjs uses.
import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loaderText } from './loader.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outIndex = process.argv.indexOf('--out');
const out = resolve(outIndex > 0 ? process.argv[outIndex + 1] : join(root, 'dist', 'mfd'));
const work = mkdtempSync(join(tmpdir(), 'mfd-sea-'));
try {
  const blob = join(work, 'mfd.blob');
  const config = join(work, 'sea-config.json');
  const main = join(work, 'mfd.cjs');
  const dist = join(root, 'dist');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  writeFileSync(main, loaderText({ version: pkg.version, sea: true }));
  const assets = Object.fromEntries(readdirSync(dist).filter((f) => /^mfd-[\w-]+\.(js|v8cache)$/.test(f)).sort().map((f) => [f, join(dist, f)]));
  writeFileSync(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, assets }));
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });
  copyFileSync(process.execPath, out);
  chmodSync(out, 0o755);
  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  // The fuse is Node's documented sentinel for SEA blobs (nodejs.org/api/single-executable-applications.html).
  execFileSync(process.execPath, [postject, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  console.log(`wrote ${out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
