// Go mfd's path, done with isomorphic-git for a fair comparison: a full clone to resolve the ref,
// then another full clone into the deployment directory (what Go mfd does on every deploy).
// Usage: node bench/gomfd-like.mjs URL DIR
import fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';

const [url, dir] = process.argv.slice(2);
await git.clone({ fs, http, url, dir: join(dir, 'resolve'), noCheckout: true, singleBranch: true });
const sha = await git.resolveRef({ fs, dir: join(dir, 'resolve'), ref: 'HEAD' });
await git.clone({ fs, http, url, dir: join(dir, 'deploy'), singleBranch: true });
await git.checkout({ fs, dir: join(dir, 'deploy'), ref: sha, force: true });
