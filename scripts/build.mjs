// Bundles src/cli.ts into one CommonJS file, dist/mfd.cjs, that plain `node` runs.
// CommonJS because Node's single-executable support needs it.
//
// Start-up is mostly V8 reading and pre-parsing the file, so the heavy libraries (isomorphic-git,
// execa, proper-lockfile: about 80% of the code) are bundled separately, compressed, and embedded
// in dist/mfd.cjs as string literals, one per group. V8 only scans a string; a group is unpacked
// and compiled, with a V8 code cache made at build time, the first time one of its packages is
// imported (see loaderOf). So `mfd ls`, `mfd status` and `--help` load none of them, a redeploy
// of a built commit only the lock library, and only resolve, fetch and checkout pay for
// isomorphic-git. src/ imports those packages lazily (`await import(...)`) where they are used.
import { build } from 'esbuild';
import { chmod, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const outfile = new URL('../dist/mfd.cjs', import.meta.url).pathname;

/** The lazily loaded packages, by group: each group is one embedded bundle. */
export const LAZY_GROUPS = {
  git: ['isomorphic-git', 'isomorphic-git/http/node'],
  exec: ['execa'],
  lock: ['proper-lockfile'],
};

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', legalComments: 'none', logLevel: 'warning' };

/**
 * A group's packages bundled into one CommonJS script exporting each package by name. Getters,
 * so each package is evaluated only when first used. Whitespace and syntax are minified (less to
 * unpack and compile), names kept (readable --verbose stack traces).
 */
async function bundleGroup(packages) {
  const result = await build({
    ...common,
    stdin: {
      contents: packages.map((n) => `Object.defineProperty(exports, ${JSON.stringify(n)}, { enumerable: true, get: () => require(${JSON.stringify(n)}) });`).join('\n'),
      resolveDir: root,
      loader: 'js',
    },
    write: false,
    minifyWhitespace: true,
    minifySyntax: true,
  });
  return result.outputFiles[0].text;
}

/** A group's code as the CommonJS wrapper V8 compiles: a function of the module's variables. */
const wrap = (code) => `(function (exports, require, module, __filename, __dirname) {${code}\n})`;

/**
 * V8's code cache for a group, made after running it (requiring each package), so it also holds
 * the functions that loading ran. It saves most of a group's compile time (git: ~13 ms of ~14).
 * V8 checks its version, flags and the source, and compiles afresh when the cache does not fit
 * (another Node than the one that built the bundle), so a stale cache costs only its bytes.
 */
function codeCacheOf(group, packages, code) {
  const script = new vm.Script(wrap(code), { filename: `mfd.cjs (vendor ${group})` });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(import.meta.url), module, '', '');
  for (const name of packages) void module.exports[name];
  return script.createCachedData();
}

const pack = (data) => brotliCompressSync(data, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } }).toString('base64');

/**
 * The module standing in for a group: unpacks and compiles it (with its code cache) as a CommonJS
 * module, once, when first required. Its `require` is the bundle's own, which only ever loads Node
 * built-ins (also inside a single executable).
 */
function loaderOf(group, packages, code) {
  return `
const { Script } = require('node:vm');
const { brotliDecompressSync } = require('node:zlib');
const unpack = (text) => brotliDecompressSync(Buffer.from(text, 'base64'));
const source = unpack(${JSON.stringify(pack(wrap(code)))}).toString('utf8');
const script = new Script(source, { filename: __filename + ' (vendor ${group})', cachedData: unpack(${JSON.stringify(pack(codeCacheOf(group, packages, code)))}) });
const vendor = { exports: {} };
script.runInThisContext()(vendor.exports, require, vendor, __filename, __dirname);
module.exports = vendor.exports;
`;
}

const loaders = new Map();
for (const [group, packages] of Object.entries(LAZY_GROUPS)) loaders.set(group, loaderOf(group, packages, await bundleGroup(packages)));
const groupOf = new Map(Object.entries(LAZY_GROUPS).flatMap(([group, packages]) => packages.map((p) => [p, group])));

const lazyVendor = {
  name: 'lazy-vendor',
  setup(b) {
    const names = new RegExp(`^(${[...groupOf.keys()].map((n) => n.replace(/[/.-]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter: names }, (args) => ({ path: args.path, namespace: 'lazy-package' }));
    b.onResolve({ filter: /^mfd-vendor:/ }, (args) => ({ path: args.path.slice('mfd-vendor:'.length), namespace: 'lazy-vendor' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => ({
      contents: `module.exports = require('mfd-vendor:${groupOf.get(args.path)}')[${JSON.stringify(args.path)}];`,
      loader: 'js',
    }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-vendor' }, (args) => ({ contents: loaders.get(args.path), loader: 'js' }));
  },
};

// The CLI itself, with the lazy packages replaced by stubs that load their group.
await build({
  ...common,
  entryPoints: [new URL('../src/cli.ts', import.meta.url).pathname],
  outfile,
  banner: { js: '#!/usr/bin/env node' },
  define: { MFD_VERSION: JSON.stringify(pkg.version) },
  plugins: [lazyVendor],
});
await chmod(outfile, 0o755);
