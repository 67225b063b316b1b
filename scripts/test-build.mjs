// Transpiles src/, test/ and bench/ to JavaScript in .test-build/ (same directory shape), so `npm test`
// runs plain `node --test` on .js files: no tsx loader in each of the ~90 test processes.
// Transpile only: the types are checked by `npm run typecheck`, which `npm test` runs first.
//
// Each module is emitted on its own (every import stays external), with its relative `.ts`
// imports pointed at the `.js` twin, and `import.meta.url` replaced by the URL of the source
// file, so fixtures, dist/mfd.cjs and helpers found relative to a test file resolve exactly as
// they do under tsx. `import.meta.filename` is left alone: it names the running (.js) module.
// Usage: node scripts/test-build.mjs   (writes .test-build/, removing an earlier one first)
import { build } from 'esbuild';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
export const OUTDIR = join(root, '.test-build');

async function tsFiles(dir) {
  const found = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(join(entry.parentPath ?? entry.path, entry.name));
  }
  return found.sort();
}

/** Leaves every import to Node at run time; a relative `.ts` one goes to the transpiled `.js` twin. */
const externalImports = {
  name: 'external-imports',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      if (/^\.\.?\//.test(args.path) && args.path.endsWith('.ts')) return { path: args.path.slice(0, -3) + '.js', external: true };
      if (/^\.\.?\//.test(args.path)) throw new Error(`${relative(root, args.importer)} imports ${args.path}: only relative .ts imports are supported by the test build`);
      return { path: args.path, external: true };
    });
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

await rm(OUTDIR, { recursive: true, force: true });
await build({
  // bench/: some tests drive its scenarios (bench/load-scenario.ts).
  entryPoints: [...(await tsFiles('src')), ...(await tsFiles('test')), ...(await tsFiles('bench'))],
  outdir: OUTDIR,
  outbase: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  plugins: [externalImports],
});
