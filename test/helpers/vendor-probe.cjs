// Preloaded into the CLI (node --require) by test/e2e/bundle.test.ts: records which embedded
// vendor groups (git, exec, lock; see scripts/build.mjs) get compiled, and says so on exit.
const vm = require('node:vm');
const compile = vm.compileFunction;
const compiled = [];
vm.compileFunction = function (code, params, options) {
  const group = /\(vendor (\w+)\)$/.exec(String(options && options.filename));
  if (group) compiled.push(group[1]);
  return compile.call(this, code, params, options);
};
process.on('exit', () => process.stderr.write(`mfd-vendor-compiled:[${compiled.join(',')}]\n`));
