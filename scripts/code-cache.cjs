// Run by scripts/build.mjs in a child process to make V8 code caches, the same bytes on every
// build: a fresh process under a fixed --random-seed (the why is at CACHE_FLAGS in build.mjs).
// DIR holds the code files build wrote (mfd-main.js, mfd-lite.js, mfd-git.js, ...). Each cache is
// made under its code file's own name (V8 keeps it: stack traces show it), and holds what the run compiled.
//   node --random-seed=N scripts/code-cache.cjs deploy DIR APP -> DIR/mfd-main.v8cache and
//     DIR/mfd-GROUP.v8cache for each library group: a first and an incremental `mfd deploy` (build
//     ["true"]) into the app root APP, from a local repository served by `git http-backend` on
//     127.0.0.1.
//   node --random-seed=N scripts/code-cache.cjs ls DIR APP -> DIR/mfd-lite.v8cache: `mfd ls`,
//     `status`, `history` and `logs` in that app root (two deployments, their records and logs).
//     In a process of its own: compiled beside the deploys, the cache would hold their code too.
//   node scripts/code-cache.cjs serve ROOT  (deploy's git server, in a process of its own)
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:http');
const { tmpdir } = require('node:os');
const { basename, join } = require('node:path');
const vm = require('node:vm');

const [mode, dir, appRoot] = process.argv.slice(2);

// Time as mfd sees it here: a clock that moves 1 ms per reading, so no branch the runs take
// depends on how fast or busy the building machine is (a step's duration, a transfer's rate, a
// slice of the low-speed meter): the caches then hold the same functions on every build.
if (mode !== 'serve') {
  // `ls` and the others run an hour after the deploys they list, as they would.
  let clock = 1_700_000_000_000 + (mode === 'ls' ? 3_600_000 : 0);
  const origin = clock;
  Date.now = () => clock++;
  performance.now = () => clock++ - origin;
}
// mfd ends a command that does not stop cleanly with process.exit as soon as its main returns
// (src/cli.ts); here the next run comes after it, in this process, so that exit only sets the code.
process.exit = (code) => {
  process.exitCode = code;
};
const main = (name) => new vm.Script(readFileSync(join(dir, name), 'latin1'), { filename: name });

/** Runs mfd's main code as `mfd --ci ARGS` in `cwd`, as dist/mfd.cjs would. */
function runMfd(script, cwd, args) {
  process.chdir(cwd);
  const loader = join(dir, 'mfd.cjs');
  process.argv = [process.argv[0], loader, '--ci', ...args];
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, loader, dir);
}

/** Runs each step when the event loop empties (the run before it has ended); fails on a failed run. */
function inTurn(steps) {
  process.on('beforeExit', () => {
    if (process.exitCode) throw new Error(`a run for the code cache failed (exit ${process.exitCode})`);
    const step = steps.shift();
    if (!step) return;
    step();
    // A run whose calls all settle at once (mfd reads its state synchronously) leaves the loop
    // nothing to wait on, and beforeExit would not come again: an immediate makes it turn once.
    setImmediate(() => {});
  });
}

const work = () => mkdtempSync(join(tmpdir(), 'mfd-code-cache-'));

if (mode === 'ls') {
  const script = main('mfd-lite.js');
  inTurn([
    ...[['ls'], ['status'], ['history'], ['logs']].map((args) => () => runMfd(script, appRoot, args)),
    () => writeFileSync(join(dir, 'mfd-lite.v8cache'), script.createCachedData()),
  ]);
} else if (mode === 'deploy') {
  // Each library group is compiled by its loader inside mfd's code; one Script per group, under
  // its file's name, whichever run compiles it.
  const script = main('mfd-main.js');
  const groups = new Map();
  vm.Script = class extends vm.Script {
    constructor(code, options) {
      const name = basename(String(options?.filename));
      if (groups.has(name)) return groups.get(name);
      super(code, { ...options, filename: name, cachedData: undefined });
      groups.set(name, this);
    }
  };
  const tmp = work();
  const git = (args, cwd) => execFileSync('git', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: gitEnv });
  const gitEnv = {
    PATH: process.env.PATH, HOME: tmp, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'mfd', GIT_AUTHOR_EMAIL: 'mfd@localhost', GIT_COMMITTER_NAME: 'mfd', GIT_COMMITTER_EMAIL: 'mfd@localhost',
    GIT_AUTHOR_DATE: '1700000000 +0000', GIT_COMMITTER_DATE: '1700000000 +0000',
  };
  const source = join(tmp, 'source');
  mkdirSync(source);
  git(['init', '-q', '--bare', '-b', 'main', join(tmp, 'app.git')], tmp);
  git(['init', '-q', '-b', 'main'], source);
  const commit = (n) => {
    writeFileSync(join(source, 'version.txt'), `${n}\n`);
    writeFileSync(join(source, `file${n}.txt`), `${'x'.repeat(100 * n)}\n`);
    git(['add', '-A'], source);
    git(['commit', '-q', '-m', `version ${n}`], source);
    git(['push', '-q', join(tmp, 'app.git'), 'main'], source);
  };
  commit(1);
  const server = spawn(process.execPath, [__filename, 'serve', tmp], { stdio: ['ignore', 'pipe', 'inherit'] });
  let port = '';
  server.stdout.on('data', (chunk) => {
    port += chunk;
    if (!port.endsWith('\n')) return;
    // From here the server no longer holds the event loop open: it empties when a deploy has ended.
    server.stdout.destroy();
    server.unref();
    writeFileSync(join(appRoot, 'mfd.toml'), `[repo]\nurl = "http://127.0.0.1:${port.trim()}/app.git"\n[build]\ncommands = [["true"]]\n`);
    inTurn([
      () => runMfd(script, appRoot, ['deploy']),
      () => { commit(2); runMfd(script, appRoot, ['deploy']); },
      () => {
        writeFileSync(join(dir, 'mfd-main.v8cache'), script.createCachedData());
        for (const [name, group] of groups) writeFileSync(join(dir, name.replace(/\.js$/, '.v8cache')), group.createCachedData());
        server.kill();
      },
    ]);
    // The event loop is empty now that the server no longer holds it: the first step runs.
  });
  process.on('exit', () => {
    server.kill();
    rmSync(tmp, { recursive: true, force: true });
  });
} else if (mode === 'serve') {
  // The smallest git smart-HTTP server: each request to `git http-backend` (CGI), loopback only.
  const root = dir;
  const httpServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: url.pathname, QUERY_STRING: url.search.slice(1), REQUEST_METHOD: req.method, CONTENT_TYPE: req.headers['content-type'] ?? '',
        GIT_PROTOCOL: req.headers['git-protocol'] ?? '', HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '', REMOTE_ADDR: '127.0.0.1',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    // The whole answer in one write: how a response arrives in chunks must not depend on timing,
    // as how often mfd's code runs per chunk decides what V8 records about it.
    const out = [];
    cgi.stdout.on('data', (chunk) => out.push(chunk));
    cgi.stdout.on('end', () => {
      const answer = Buffer.concat(out);
      const end = answer.indexOf('\r\n\r\n');
      let status = 200;
      const headers = {};
      for (const line of answer.subarray(0, Math.max(end, 0)).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      const body = answer.subarray(end + 4);
      res.writeHead(status, { ...headers, 'Content-Length': String(body.length) });
      res.end(body);
    });
  });
  httpServer.listen(0, '127.0.0.1', () => process.stdout.write(`${httpServer.address().port}\n`));
} else {
  throw new Error(`unknown mode ${mode}: ls, deploy or serve`);
}
