// Bundles src/cli.ts into one CommonJS file, dist/mfd.cjs, that plain `node` runs.
// CommonJS because Node's single-executable support needs it.
//
// Start-up is mostly V8 reading and pre-parsing the file, so the heavy libraries (isomorphic-git,
// execa, proper-lockfile: about 80% of the code) are bundled separately, compressed, and embedded
// in dist/mfd.cjs as string literals, one per group. V8 only scans a string; a group is unpacked
// and compiled the first time one of its packages is imported (see loaderOf). So `mfd ls`,
// `mfd status` and `--help` load none of them, a redeploy of a built commit only the lock library,
// and only a fetch or checkout pays for isomorphic-git. src/ imports those packages lazily
// (`await import(...)`) where they are used, for the same reason.
import { build } from 'esbuild';
import { chmod, readFile } from 'node:fs/promises';
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

/**
 * The module standing in for a group: unpacks and compiles it as a CommonJS module, once, when
 * first required. Its `require` is the bundle's own, which only ever loads Node built-ins (also
 * inside a single executable).
 */
function loaderOf(group, code) {
  const packed = brotliCompressSync(code, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } }).toString('base64');
  return `
const { compileFunction } = require('node:vm');
const { brotliDecompressSync } = require('node:zlib');
const source = brotliDecompressSync(Buffer.from(${JSON.stringify(packed)}, 'base64')).toString('utf8');
const vendor = { exports: {} };
compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: __filename + ' (vendor ${group})' })(
  vendor.exports, require, vendor, __filename, __dirname);
module.exports = vendor.exports;
`;
}

const loaders = new Map();
for (const [group, packages] of Object.entries(LAZY_GROUPS)) loaders.set(group, loaderOf(group, await bundleGroup(packages)));
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
