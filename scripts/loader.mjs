// The loader: the few lines that compile mfd-main.js with one of its two V8 code caches
// (scripts/build.mjs explains why). dist/mfd.cjs reads them from the files beside it; the single
// executable (scripts/package.mjs) from its assets of the same names.

/** The commands that take the cache a deploy made (they fetch); the others take the one `mfd ls` made. */
export const FETCHING = ['deploy', 'resolve', 'watch', 'serve'];

export function loaderText({ version, sea }) {
  const read = sea
    ? `const { getAsset } = require("node:sea");
const file = "mfd-main.js";
const code = Buffer.from(getAsset(file)).toString("latin1");
const cache = (name) => Buffer.from(getAsset(name));`
    : `const { readFileSync } = require("node:fs");
const file = __dirname + "/mfd-main.js";
const code = readFileSync(file, "latin1");
const cache = (name) => readFileSync(__dirname + "/" + name);`;
  return `#!/usr/bin/env node
// mfd ${version}. Its code is mfd-main.js ${sea ? 'among the assets of this executable' : 'beside this file'}, compiled with one of
// the V8 code caches ${sea ? 'there' : 'beside it'} (scripts/build.mjs explains why).
"use strict";
const { Script } = require("node:vm");
${read}
// Commands that fetch take the cache a deploy made, the others the smaller one \`mfd ls\` made.
// Only a cache is chosen: with either, or none, every command runs the same code.
const fetches = process.argv.slice(2).some((arg) => ${FETCHING.map((c) => `arg === "${c}"`).join(' || ')});
let cachedData;
try { cachedData = cache(fetches ? "mfd-main-deploy.v8cache" : "mfd-main.v8cache"); } catch {}
const script = new Script(code, { filename: file, cachedData });
script.runInThisContext()(exports, require, module, __filename, __dirname);
`;
}
