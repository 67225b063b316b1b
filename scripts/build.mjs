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
//
// What is left of start-up is then mostly V8 compiling mfd's own code, so that code travels with
// a V8 code cache too, made at build time by running `mfd ls`: the file is a short loader
// followed by one comment holding the code and its cache (withCodeCache, scripts/bundle-layout.mjs).
//
// Two builds of one checkout with one Node give the same bytes (test/e2e/bundle.test.ts): esbuild
// and brotli are deterministic, and each code cache is made apart under a fixed seed (CACHE_FLAGS).
// Usage: node scripts/build.mjs [--outdir DIR]   (default dist/)
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HIDDEN_CLOSE, MAIN_CACHE_MARK, MAIN_MARK, hideInComment, mainCodeOf } from './bundle-layout.mjs';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const outIndex = process.argv.indexOf('--outdir');
const outdir = outIndex > 0 ? resolve(process.argv[outIndex + 1]) : join(root, 'dist');
const outfile = join(outdir, 'mfd.cjs');

/** The lazily loaded packages, by group: each group is one embedded bundle. */
export const LAZY_GROUPS = {
  git: ['isomorphic-git'],
  exec: ['execa'],
  lock: ['proper-lockfile'],
};

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', legalComments: 'none', logLevel: 'warning' };

/**
 * Packages bundled from their ES module build with only the names src/ imports from them, so
 * esbuild leaves the rest of the library out (isomorphic-git's clone, push, merge, status...):
 * less to unpack, deserialize and evaluate whenever git is loaded. The names are read from src/
 * at build time (importedNames), so a new import can never be missing from the bundle.
 */
const FROM_ES_MODULE = { 'isomorphic-git': 'index.js' };

/** The value names src/ imports from `pkg` (`import { a, b as c } from 'pkg'`; type-only ones left out). */
async function importedNames(pkg) {
  const names = new Set();
  const files = (await readdir(join(root, 'src'), { recursive: true })).filter((f) => f.endsWith('.ts'));
  const quoted = pkg.replace(/[/.-]/g, '\\$&');
  const statement = new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*'${quoted}'`, 'g');
  for (const file of files.sort()) {
    const text = await readFile(join(root, 'src', file), 'utf8');
    const matches = [...text.matchAll(statement)];
    // Any other form (a default or namespace import, a dynamic import) would find a name missing.
    if (text.split(`'${pkg}'`).length - 1 !== matches.length) throw new Error(`src/${file} takes ${pkg} in a form other than import { ... } from '${pkg}'`);
    for (const match of matches) {
      for (const part of match[1].split(',').map((p) => p.trim()).filter((p) => p !== '' && !p.startsWith('type '))) names.add(part.split(/\s+as\s+/)[0]);
    }
  }
  if (names.size === 0) throw new Error(`src/ imports nothing from ${pkg}, yet it is bundled from its ES module build`);
  return [...names].sort();
}

const usedExports = {
  name: 'used-exports',
  setup(b) {
    b.onResolve({ filter: /^mfd-used:/ }, (args) => ({ path: args.path.slice('mfd-used:'.length), namespace: 'mfd-used' }));
    b.onLoad({ filter: /.*/, namespace: 'mfd-used' }, async (args) => ({
      contents: `export { ${(await importedNames(args.path)).join(', ')} } from ${JSON.stringify(join(root, 'node_modules', args.path, FROM_ES_MODULE[args.path]))};`,
      resolveDir: root,
      loader: 'js',
    }));
  },
};

/**
 * A group's packages bundled into one CommonJS script exporting each package by name. Getters,
 * so each package is evaluated only when first used. Whitespace and syntax are minified (less to
 * unpack and compile), names kept (readable --verbose stack traces).
 */
async function bundleGroup(packages) {
  const source = (n) => JSON.stringify(FROM_ES_MODULE[n] ? `mfd-used:${n}` : n);
  const result = await build({
    ...common,
    stdin: {
      contents: packages.map((n) => `Object.defineProperty(exports, ${JSON.stringify(n)}, { enumerable: true, get: () => require(${source(n)}) });`).join('\n'),
      resolveDir: root,
      loader: 'js',
    },
    plugins: [usedExports],
    write: false,
    minifyWhitespace: true,
    minifySyntax: true,
  });
  return result.outputFiles[0].text;
}

/** A group's code as the CommonJS wrapper V8 compiles: a function of the module's variables. */
const wrap = (code) => `(function (exports, require, module, __filename, __dirname) {${code}\n})`;

/**
 * The node flags each code cache is made under, in a fresh process of its own (scripts/code-cache.cjs).
 * A cache holds the hash of every string it names, and V8 seeds those hashes from its random
 * seed: left random, two builds differ in a few bytes of every hundred. V8 leaves --random-seed
 * out of the flags a cache must match (--hash-seed it does not), so a plain `node` still takes it.
 * No NODE_OPTIONS and an empty environment: V8 takes a cache only under the flags that made it,
 * and the run that makes it must not depend on who builds.
 */
const CACHE_FLAGS = ['--random-seed=1'];

/**
 * V8's code cache for `code` made by scripts/code-cache.cjs in `mode` (group or main). V8 checks
 * its version, flags and the source, and compiles afresh when the cache does not fit (another
 * Node than the one that built the bundle), so a stale cache costs only its bytes.
 */
async function codeCacheIn(mode, code, encoding, args) {
  const work = await mkdtemp(join(tmpdir(), 'mfd-build-'));
  try {
    const sourceFile = join(work, 'code.js');
    const cacheFile = join(work, 'code.cache');
    await writeFile(sourceFile, code, encoding);
    const script = new URL('./code-cache.cjs', import.meta.url).pathname;
    const run = spawnSync(process.execPath, [...CACHE_FLAGS, script, mode, sourceFile, cacheFile, ...args], { env: {}, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`making the ${mode} code cache failed (exit ${run.status}): ${run.stderr}`);
    return await readFile(cacheFile);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A group's code cache, made after requiring each package. It saves most of the group's compile time. */
const codeCacheOf = (group, packages, code) => codeCacheIn('group', wrap(code), 'utf8', [group, ...packages]);

const pack = (data) => brotliCompressSync(data, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } }).toString('base64');

/**
 * The module standing in for a group: unpacks and compiles it (with its code cache) as a CommonJS
 * module, once, when first required. Its `require` is the bundle's own, which only ever loads Node
 * built-ins (also inside a single executable).
 */
async function loaderOf(group, packages, code) {
  return `
const { Script } = require('node:vm');
const { brotliDecompressSync } = require('node:zlib');
const unpack = (text) => brotliDecompressSync(Buffer.from(text, 'base64'));
const source = unpack(${JSON.stringify(pack(wrap(code)))}).toString('utf8');
const script = new Script(source, { filename: __filename + ' (vendor ${group})', cachedData: unpack(${JSON.stringify(pack(await codeCacheOf(group, packages, code)))}) });
const vendor = { exports: {} };
script.runInThisContext()(vendor.exports, require, vendor, __filename, __dirname);
module.exports = vendor.exports;
`;
}

const loaders = new Map();
for (const [group, packages] of Object.entries(LAZY_GROUPS)) loaders.set(group, await loaderOf(group, packages, await bundleGroup(packages)));
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

/**
 * Node built-ins that only some commands use, loaded on first use instead of at start-up:
 * node:crypto pulls in some 30 stream and crypto modules (~6 ms of `node -e 0` time), and the
 * modules that import it are initialised by every command, `mfd ls` among them. mfd imports
 * built-ins by name (`import { createHash } from 'node:crypto'`); esbuild reads such a name at
 * each use, from a copy of the module's own keys, so a module with a getter per key (the keys of
 * the Node that builds) that requires the built-in at the first read is enough.
 */
const LAZY_BUILTINS = ['node:crypto'];
const require_ = createRequire(import.meta.url);
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const names = new RegExp(`^(${LAZY_BUILTINS.join('|')})$`);
    b.onResolve({ filter: names }, (args) => (args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(args.path)}));
for (const key of ${JSON.stringify(Object.keys(require_(args.path)).sort())}) Object.defineProperty(module.exports, key, { enumerable: true, get: () => load()[key] });
`,
      loader: 'js',
    }));
  },
};

// The CLI itself, with the lazy packages replaced by stubs that load their group.
const main = await build({
  ...common,
  entryPoints: [new URL('../src/cli.ts', import.meta.url).pathname],
  write: false,
  define: { MFD_VERSION: JSON.stringify(pkg.version) },
  plugins: [lazyVendor, lazyBuiltins],
});
await mkdir(outdir, { recursive: true });
// Written beside and renamed over: a running `mfd` or test never reads a half-written file.
const partial = `${outfile}.partial`;
await writeFile(partial, await withCodeCache(main.outputFiles[0].text));
await chmod(partial, 0o755);
await rename(partial, outfile);

/**
 * dist/mfd.cjs: a few lines that compile mfd's code with a V8 code cache, then the code and the
 * cache inside one comment. Node 20 keeps no code cache for a CommonJS file, and compiling the
 * code afresh was most of what `mfd ls` adds to `node -e 0`; V8 only skims a comment. The code
 * is the loader's slice of its own file, so stack traces still point at the right lines. When
 * the cache does not fit (another Node, other V8 flags) V8 compiles as it would have anyway.
 */
async function withCodeCache(code) {
  const source = wrap(code);
  // Read back as latin1 (one byte, one character): fine only for ASCII, which esbuild writes.
  if (!/^[\x01-\x7f]*$/.test(source)) throw new Error('the main bundle is not plain ASCII (without NUL)');
  // The code sits in a /* */ comment: each "*/" in it is stored as HIDDEN_CLOSE, undone below.
  const escaped = hideInComment(source);
  const loaderFor = (start, end, lines) => `#!/usr/bin/env node
// mfd ${pkg.version}. Its code is in the comment below, compiled with the V8 code cache after it
// (scripts/build.mjs explains why).
"use strict";
const { Script } = require("node:vm");
const file = require("node:fs").readFileSync(__filename, "latin1");
const script = new Script(file.slice(${start}, ${end}).replaceAll(${JSON.stringify(HIDDEN_CLOSE)}, "*/"), {
  filename: __filename,
  lineOffset: ${lines},
  cachedData: Buffer.from(file.slice(${end + MAIN_CACHE_MARK.length}, file.lastIndexOf("\\n*/")), "base64"),
});
script.runInThisContext()(exports, require, module, __filename, __dirname);${MAIN_MARK}`;
  const lineOffset = loaderFor(0, 0, 0).split('\n').length - 1;
  // The offsets are the loader's own length, which depends on their digits: settle in a few rounds.
  let loader = '';
  for (let round = 0; round < 4; round++) loader = loaderFor(loader.length, loader.length + escaped.length, lineOffset);
  if (loaderFor(loader.length, loader.length + escaped.length, lineOffset) !== loader) throw new Error('loader offsets did not settle');
  const cache = (await codeCacheOfMain(source, lineOffset)).toString('base64');
  const bundle = `${loader}${escaped}${MAIN_CACHE_MARK}${cache}\n*/\n`;
  if (mainCodeOf(bundle) !== source) throw new Error('the main code does not read back from dist/mfd.cjs as written');
  return bundle;
}

/**
 * V8's code cache for the wrapped main code, made by running `mfd ls`. V8 (Node 20) keeps the file
 * name and line offset of the compile that made a cache, so it is made as `mfd.cjs` at the lines
 * the code has in dist/mfd.cjs: stack traces name those wherever it is installed.
 */
function codeCacheOfMain(source, lineOffset) {
  return codeCacheIn('main', source, 'latin1', [String(lineOffset)]);
}
