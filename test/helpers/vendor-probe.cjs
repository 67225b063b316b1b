// Preloaded into the CLI (node --require) by test/e2e/bundle.test.ts: records which embedded
// vendor groups (git, exec, lock; see scripts/build.mjs) get compiled, whether V8 accepted each
// group's code cache, and says so on exit.
const vm = require('node:vm');
const compiled = [];
const rejected = [];
vm.Script = class extends vm.Script {
  constructor(code, options) {
    super(code, options);
    const group = /\(vendor (\w+)\)$/.exec(String(options && options.filename));
    if (!group) return;
    compiled.push(group[1]);
    if (!options.cachedData || this.cachedDataRejected) rejected.push(group[1]);
  }
};
process.on('exit', () => process.stderr.write(`mfd-vendor-compiled:[${compiled.join(',')}] cache-rejected:[${rejected.join(',')}]\n`));
