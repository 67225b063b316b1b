// The loader: the few lines that compile mfd's code, mfd-main.js or mfd-lite.js, with the V8 code
// cache made for it (scripts/build.mjs explains why). dist/mfd.cjs reads them from the files
// beside it; the single executable (scripts/package.mjs) from its assets of the same names.

/**
 * The commands only mfd-main.js can run: their code is the deploy path (fetch, build, activate,
 * restart, the loops), which mfd-lite.js leaves out. Each is src/commands/NAME.ts, and these are
 * all the names they answer to (test/arch/architecture.test.ts checks both).
 */
export const FULL_COMMANDS = ['deploy', 'resolve', 'rollback', 'serve', 'watch'];

export function loaderText({ version, sea }) {
  const read = sea
    ? `const { getAsset } = require("node:sea");
const path = (name) => name;
const code = (name) => Buffer.from(getAsset(name)).toString("latin1");
const cache = (name) => Buffer.from(getAsset(name));`
    : `const { readFileSync } = require("node:fs");
const path = (name) => __dirname + "/" + name;
const code = (name) => readFileSync(path(name), "latin1");
const cache = (name) => readFileSync(path(name));`;
  return `#!/usr/bin/env node
// mfd ${version}. Its code is mfd-main.js or mfd-lite.js ${sea ? 'among the assets of this executable' : 'beside this file'}, compiled
// with the V8 code cache made for it ${sea ? 'there' : 'beside it'} (scripts/build.mjs explains why).
"use strict";
const { Script } = require("node:vm");
${read}
// The commands that deploy run mfd-main.js, every command's code; the others mfd-lite.js, the same
// code without the deploy path. mfd-lite.js cannot run a command whose name is not among these
// words, and a word is enough: with either file, every command it runs runs the same code.
const full = process.argv.slice(2).some((arg) => ${FULL_COMMANDS.map((c) => `arg === "${c}"`).join(' || ')});
const name = full ? "mfd-main" : "mfd-lite";
let cachedData;
try { cachedData = cache(name + ".v8cache"); } catch {}
const script = new Script(code(name + ".js"), { filename: path(name + ".js"), cachedData });
script.runInThisContext()(exports, require, module, __filename, __dirname);
`;
}
