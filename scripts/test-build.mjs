// Transpiles src/, test/ and bench/ to JavaScript in .test-build/ (same directory shape), so
// `npm test` runs plain `node --test` on .js files, with no TypeScript loader in each test process.
// Transpile only: `npm test` type-checks first. Usage: node scripts/test-build.mjs
import { build } from 'esbuild';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const OUTDIR = join(root, '.test-build');

async function tsFiles(dir) {
  const found = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(join(entry.parentPath ?? entry.path, entry.name));
  }
  return found.sort();
}

/**
 * Each module is emitted on its own: every import stays an import, a relative `.ts` one pointed
 * at its `.js` twin. `import.meta.url` becomes the source file's URL, so fixtures, dist/mfd.cjs and
 * helpers found relative to a test resolve exactly as under tsx; `import.meta.filename` still
 * names the running (.js) module, for the tests that re-run themselves in a pid namespace.
 */
const perModule = {
  name: 'per-module',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const relativePath = /^\.\.?\//.test(args.path);
      if (relativePath && args.path.endsWith('.ts')) return { path: `${args.path.slice(0, -3)}.js`, external: true };
      // Its twin would not exist in .test-build/: say so here rather than as a test failing later.
      if (relativePath) throw new Error(`${relative(root, args.importer)} imports ${args.path}: the test build handles relative .ts imports only`);
      return { path: args.path, external: true };
    });
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

// Afresh each time: a test deleted from test/ must not go on running as a stale twin.
await rm(OUTDIR, { recursive: true, force: true });
await build({
  // bench/: some tests drive its scenarios (bench/load-scenario.ts).
  entryPoints: [...(await tsFiles('src')), ...(await tsFiles('test')), ...(await tsFiles('bench'))],
  outdir: OUTDIR,
  outbase: root,
  // Bundling, with every import external, is what lets the plugin rewrite the imports.
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  plugins: [perModule],
});
