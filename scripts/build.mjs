// Bundles src/cli.ts into one CommonJS file, dist/mfd.cjs, that plain `node` runs.
// CommonJS because Node's single-executable support needs it; isomorphic-git is only
// imported dynamically, so esbuild wraps it lazily and `mfd ls` never evaluates it.
import { build } from 'esbuild';
import { chmod, readFile } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const outfile = new URL('../dist/mfd.cjs', import.meta.url).pathname;

await build({
  entryPoints: [new URL('../src/cli.ts', import.meta.url).pathname],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  banner: { js: '#!/usr/bin/env node' },
  define: { MFD_VERSION: JSON.stringify(pkg.version) },
  legalComments: 'none',
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
