// Bundles src/cli.ts into dist/: mfd.cjs, the few lines `node` (and the `mfd` on the PATH) runs,
// and beside it the code it compiles, each file with the V8 code cache made for it at build time.
// CommonJS because Node's single-executable support needs it.
//
//   mfd.cjs                   the loader: compiles mfd-main.js or mfd-lite.js with its cache
//   mfd-main.js               mfd's own code with zod and smol-toml: every command
//   mfd-main.v8cache          its V8 code cache, made by running deploys (for deploy, rollback, resolve, watch, serve)
//   mfd-lite.js               the same code without the deploy path: the other commands (ls, status, lock...)
//   mfd-lite.v8cache          its V8 code cache, made by running `mfd ls`, status, history and logs
//   mfd-git.js, mfd-exec.js, mfd-lock.js and their .v8cache: isomorphic-git, execa, proper-lockfile
//
// Start-up is mostly V8 compiling code, so nothing is compiled that a command does not run, and
// what it runs comes compiled:
// - Node 20 keeps no code cache for a CommonJS file, and compiling mfd's code afresh was most of
//   what `mfd ls` adds to `node -e 0`; so the loader compiles it with a cache made at build time
//   (addCodeCaches). The files are apart because Node's loader reads and scans every byte of the
//   file it runs: code kept in a comment of mfd.cjs cost `mfd ls` a second read and scan of 1.1 MB.
// - A bundle's modules are initialised when first imported, but their functions are declared in
//   the bundle's top scope: V8 makes a closure for each at start-up, and its code cache holds
//   each one's data. So the deploy path (git/, the deploy and rollback steps, cd/, serve/: 60% of
//   mfd's code), present, cost `mfd ls` 6 M instructions (4%) that it never runs. mfd-lite.js is
//   mfd-main.js built without it: the code the five commands of FULL_COMMANDS (scripts/loader.mjs)
//   import when they run is left out (withoutDeployPath), and the loader runs mfd-main.js for
//   those. A deploy runs far more of the code than `mfd ls`, and each file's cache is made by
//   running what it serves.
// - The heavy libraries (about 80% of the code) are separate groups, each compiled, with its own
//   cache (made by the deploy run), the first time one of its packages is imported (loaderOf).
//   So `mfd ls`, `mfd status` and `--help` compile none of them, a redeploy of a built commit
//   only the lock library, and only resolve, fetch and checkout pay for isomorphic-git. src/
//   imports those packages lazily (`await import(...)`) where they are used.
//
// Two builds of one checkout with one Node (and one git: the deploy run talks to its http-backend)
// give the same bytes (test/e2e/bundle.test.ts): esbuild is deterministic, and the code caches are
// made apart under a fixed seed (CACHE_FLAGS), by runs that take the same paths whatever the
// timing (scripts/code-cache.cjs).
// Usage: node scripts/build.mjs [--outdir DIR]   (default dist/)
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FULL_COMMANDS, loaderText } from './loader.mjs';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const outIndex = process.argv.indexOf('--outdir');
const outdir = outIndex > 0 ? resolve(process.argv[outIndex + 1]) : join(root, 'dist');

/** The lazily loaded packages, by group: each group is one file of dist/, mfd-GROUP.js. */
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
  const statement = new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*(['"])${quoted}\\2`, 'g');
  for (const file of files.sort()) {
    // A type-only import (`import type * as fsp from 'node:fs/promises'`) takes no value.
    const text = (await readFile(join(root, 'src', file), 'utf8')).replace(/^import type [^;]*;$/gm, '');
    const matches = [...text.matchAll(statement)];
    // Any other form (a default or namespace import, a dynamic import), in either quotes, would
    // find a name missing.
    if (text.split(`'${pkg}'`).length + text.split(`"${pkg}"`).length - 2 !== matches.length) throw new Error(`src/${file} takes ${pkg} in a form other than import { ... } from '${pkg}'`);
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

/** The files of dist/, by name, as build writes them (see the top of this file). */
const outputs = new Map();

/**
 * `code` as plain ASCII: the loaders read it back as latin1 (one byte, one character). esbuild
 * writes a few characters raw inside regular expression literals even with charset ascii
 * (isomorphic-git's /[\ud800-\uffff]/): inside a string, a regular expression or a name,
 * \uXXXX is the same character.
 */
function ascii(name, code) {
  const escaped = code.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (!/^[\x01-\x7f]*$/.test(escaped)) throw new Error(`${name} holds a NUL or other control character esbuild should have escaped`);
  return escaped;
}

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
 * The code caches, made by scripts/code-cache.cjs in a work directory holding the code files:
 * mfd-main.v8cache and each group's by running a first and an incremental deploy from a local
 * repository (git and `git http-backend` on 127.0.0.1, so the build needs git, as mfd itself
 * does); mfd-lite.v8cache by running `mfd ls`, `status`, `history` and `logs` in that app root. V8 keeps the file name a cache was made
 * under and shows it in stack traces, so each is made as its file's name in dist/, wherever mfd is
 * installed. V8 checks its version, flags and the source and compiles afresh when a cache does
 * not fit (another Node than the one that built), so a stale cache costs only its read.
 */
async function addCodeCaches() {
  const work = await mkdtemp(join(tmpdir(), 'mfd-build-'));
  try {
    for (const [name, content] of outputs) await writeFile(join(work, name), content, 'latin1');
    const script = new URL('./code-cache.cjs', import.meta.url).pathname;
    // The deploys' app root is where `ls` and the others then run. `deploy` needs PATH for git and
    // the build command; nothing else of the builder's environment.
    const app = join(work, 'app');
    await mkdir(app);
    for (const [mode, env] of [['deploy', { PATH: process.env.PATH }], ['ls', {}]]) {
      const run = spawnSync(process.execPath, [...CACHE_FLAGS, script, mode, work, app], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      if (run.error?.code === 'ENOENT' || /spawnSync git ENOENT/.test(run.stderr)) throw new Error('npm run build needs git: it makes the code cache of a deploy by deploying a local repository');
      if (run.status !== 0) throw new Error(`making the ${mode} code caches failed (exit ${run.status}): ${run.stderr}`);
    }
    for (const name of ['mfd-main.v8cache', 'mfd-lite.v8cache', ...Object.keys(LAZY_GROUPS).map((g) => `mfd-${g}.v8cache`)]) {
      outputs.set(name, await readFile(join(work, name)));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A group's file: its wrapped code (its code cache comes from the deploy run, addCodeCaches). */
function addGroup(group, code) {
  const name = `mfd-${group}.js`;
  outputs.set(name, ascii(name, wrap(code)));
}

/**
 * Reads a code file of dist/: from beside dist/mfd.cjs (`dir`, the loader's directory), or in the
 * single executable from the asset of that name (scripts/package.mjs). node:sea exists from Node
 * 20.12; on an older Node mfd is not a single executable. A missing cache only costs its compile.
 */
const CODE_FILE = `
const { readFileSync } = require('node:fs');
const sea = (() => { try { const s = require('node:sea'); return s.isSea() ? s : undefined; } catch { return undefined; } })();
exports.codePath = (dir, name) => (sea ? name : dir + '/' + name);
exports.readCode = (dir, name) => (sea ? Buffer.from(sea.getAsset(name)).toString('latin1') : readFileSync(dir + '/' + name, 'latin1'));
exports.readCache = (dir, name) => {
  try { return sea ? Buffer.from(sea.getAsset(name)) : readFileSync(dir + '/' + name); } catch { return undefined; }
};
`;

/**
 * The module standing in for a group: compiles its file (with its code cache) as a CommonJS
 * module, once, when first required. Its \`require\` is the bundle's own, which only ever loads Node
 * built-ins (also inside a single executable). \`__dirname\` is the loader's, dist/.
 */
const loaderOf = (group) => `
const { Script } = require('node:vm');
const { codePath, readCode, readCache } = require('mfd-code-file');
const script = new Script(readCode(__dirname, 'mfd-${group}.js'), { filename: codePath(__dirname, 'mfd-${group}.js'), cachedData: readCache(__dirname, 'mfd-${group}.v8cache') });
const vendor = { exports: {} };
script.runInThisContext()(vendor.exports, require, vendor, __filename, __dirname);
module.exports = vendor.exports;
`;

for (const [group, packages] of Object.entries(LAZY_GROUPS)) addGroup(group, await bundleGroup(packages));
const groupOf = new Map(Object.entries(LAZY_GROUPS).flatMap(([group, packages]) => packages.map((p) => [p, group])));

const lazyVendor = {
  name: 'lazy-vendor',
  setup(b) {
    const names = new RegExp(`^(${[...groupOf.keys()].map((n) => n.replace(/[/.-]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter: names }, (args) => ({ path: args.path, namespace: 'lazy-package' }));
    b.onResolve({ filter: /^mfd-vendor:/ }, (args) => ({ path: args.path.slice('mfd-vendor:'.length), namespace: 'lazy-vendor' }));
    b.onResolve({ filter: /^mfd-code-file$/ }, (args) => ({ path: args.path, namespace: 'lazy-vendor' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => ({
      contents: `module.exports = require('mfd-vendor:${groupOf.get(args.path)}')[${JSON.stringify(args.path)}];`,
      loader: 'js',
    }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-vendor' }, (args) => ({ contents: args.path === 'mfd-code-file' ? CODE_FILE : loaderOf(args.path), loader: 'js' }));
  },
};

/**
 * Node built-ins that only some commands use, loaded on first use instead of at start-up:
 * node:crypto pulls in some 30 stream and crypto modules (~6 ms of `node -e 0` time), and the
 * modules that import it are initialised by every command, `mfd ls` among them; node:https pulls
 * in TLS and node:crypto, and only a remote or a forge reached over https needs it; node:fs/promises
 * (1.5-2 ms: FileHandle, readline, watchers) only open() needs (src/sys/files.ts); node:os (1 M
 * instructions) only the host name of a lock's or a record's holder and a permission error's
 * user name need (src/context.ts makes the host name on first use). mfd imports
 * built-ins by name (`import { createHash } from 'node:crypto'`); esbuild reads such a name at
 * each use, from a copy of the module's own keys, so a module with a getter per key that requires
 * the built-in at the first read is enough. The keys are the names src/ imports (importedNames),
 * not every key of the built-in: each getter is defined twice at start-up (here and in esbuild's
 * copy), and node:crypto's 67 and node:fs/promises' 31 cost `mfd ls` 1 M instructions.
 */
const LAZY_BUILTINS = ['node:crypto', 'node:https', 'node:fs/promises', 'node:os'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const names = new RegExp(`^(${LAZY_BUILTINS.join('|')})$`);
    b.onResolve({ filter: names }, (args) => (args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => ({
      contents: `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(args.path)}));
for (const key of ${JSON.stringify(await importedNames(args.path))}) Object.defineProperty(module.exports, key, { enumerable: true, get: () => load()[key] });
`,
      loader: 'js',
    }));
  },
};

/**
 * mfd-lite.js leaves out what the files of FULL_COMMANDS import when their command runs (their
 * dynamic imports): in its place a module that fails, which only a command of FULL_COMMANDS
 * could reach, and for those the loader runs mfd-main.js.
 */
const fullCommandFiles = new Set(FULL_COMMANDS.map((name) => join(root, 'src', 'commands', `${name}.ts`)));
const withoutDeployPath = {
  name: 'without-deploy-path',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => (args.kind === 'dynamic-import' && fullCommandFiles.has(args.importer) ? { path: args.path, namespace: 'not-in-lite' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'not-in-lite' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`mfd-lite.js does not hold ${args.path}: dist/mfd.cjs runs mfd-main.js for ${FULL_COMMANDS.join(', ')}`)});`,
      loader: 'js',
    }));
  },
};

// The CLI itself, with the lazy packages replaced by stubs that load their group: every command
// (mfd-main.js), and every command but those of FULL_COMMANDS (mfd-lite.js).
for (const [name, plugins] of [['mfd-main.js', []], ['mfd-lite.js', [withoutDeployPath]]]) {
  const cli = await build({
    ...common,
    entryPoints: [new URL('../src/cli.ts', import.meta.url).pathname],
    write: false,
    define: { MFD_VERSION: JSON.stringify(pkg.version) },
    plugins: [lazyVendor, lazyBuiltins, ...plugins],
  });
  outputs.set(name, ascii(name, wrap(cli.outputFiles[0].text)));
}
await addCodeCaches();
outputs.set('mfd.cjs', loaderText({ version: pkg.version, sea: false }));

// Each file written beside and renamed over, the loader last: a running \`mfd\` or test never reads
// a half-written file.
await mkdir(outdir, { recursive: true });
for (const [name, content] of [...outputs].sort(([a], [b]) => (a === 'mfd.cjs') - (b === 'mfd.cjs'))) {
  const partial = join(outdir, `${name}.partial`);
  await writeFile(partial, content, typeof content === 'string' ? 'latin1' : undefined);
  if (name === 'mfd.cjs') await chmod(partial, 0o755);
  await rename(partial, join(outdir, name));
}
// A code file or cache an earlier build wrote and this one did not (mfd-main-deploy.v8cache
// before mfd-lite.js came): the loader never reads it, and `npm pack` would ship it.
for (const name of await readdir(outdir)) {
  if (/^mfd-[\w-]+\.(js|v8cache)$/.test(name) && !outputs.has(name)) await rm(join(outdir, name));
}
