// Preloaded into the CLI (node --require) by test/e2e/bundle.test.ts: records which vendor groups
// (git, exec, lock: dist/mfd-GROUP.js, see scripts/build.mjs) get compiled, whether V8 accepted
// each group's code cache, which of mfd's two code files ran (dist/mfd-main.js or mfd-lite.js) and
// with which cache, and says so on exit; and which lazily loaded built-ins the command loaded.
const vm = require('node:vm');
const compiled = [];
const rejected = [];
let main = 'not compiled';
// Which cache of dist/ the loader passed with mfd's code.
const cacheOf = (dist, data) => ['mfd-main.v8cache', 'mfd-lite.v8cache'].find((name) => require('node:fs').readFileSync(`${dist}/${name}`).equals(data)) ?? 'another';
vm.Script = class extends vm.Script {
  constructor(code, options) {
    super(code, options);
    const filename = String(options && options.filename);
    const dist = require('node:path').dirname(require('node:fs').realpathSync(process.argv[1]));
    const ours = /\/(mfd-(?:main|lite)\.js)$/.exec(filename);
    if (ours && filename === `${dist}/${ours[1]}`) {
      main = `${ours[1]} ${!options.cachedData ? 'no cache' : this.cachedDataRejected ? 'cache rejected' : `cache accepted: ${cacheOf(dist, options.cachedData)}`}`;
    }
    const group = filename.startsWith(`${dist}/`) ? /\/mfd-(git|exec|lock)\.js$/.exec(filename) : null;
    if (!group) return;
    compiled.push(group[1]);
    if (!options.cachedData || this.cachedDataRejected) rejected.push(group[1]);
  }
};
// Which of the built-ins scripts/build.mjs loads on first use (LAZY_BUILTINS) the command loaded.
const lazyBuiltins = () => ['crypto', 'https', 'fs/promises'].filter((name) => process.moduleLoadList.includes(`NativeModule ${name}`));
process.on('exit', () => {
  process.stderr.write(`mfd-builtins-loaded:[${lazyBuiltins().join(',')}]\n`);
  process.stderr.write(`mfd-main:[${main}] mfd-vendor-compiled:[${compiled.join(',')}] cache-rejected:[${rejected.join(',')}]\n`);
});
