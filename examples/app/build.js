// The example app's build step: mfd runs it in the new deployment directory with MFD_COMMIT,
// MFD_REF and MFD_DEPLOYMENT_DIR set. A real app would run `npm ci` and a bundler here.
'use strict';
const fs = require('node:fs');

const info = { commit: process.env.MFD_COMMIT, ref: process.env.MFD_REF, builtAt: new Date().toISOString() };
fs.writeFileSync('build-info.json', `${JSON.stringify(info)}\n`);
console.log(`built ${info.commit} (${info.ref})`);
