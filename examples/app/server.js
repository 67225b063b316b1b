// The example app mfd deploys: answers GET / with the commit it was built from, GET /health with ok.
// No dependencies; build.js (run by mfd) writes build-info.json beside it. Behind systemd/app.socket
// it serves the socket systemd passes (fd 3), so restarts refuse nothing; alone, its own port.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const info = JSON.parse(fs.readFileSync(path.join(__dirname, 'build-info.json'), 'utf8'));
// sd_listen_fds(3): the fds are meant for this process only if LISTEN_PID names it.
const passed = Number(process.env.LISTEN_PID) === process.pid && Number(process.env.LISTEN_FDS) >= 1;
const port = Number(process.env.PORT || 8080);
const host = process.env.HOST || '127.0.0.1';

let stopping = false;
const server = http.createServer((req, res) => {
  // While stopping, no connection is kept for a next request: the next process serves that.
  if (stopping) res.setHeader('connection', 'close');
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify({ commit: info.commit, ref: info.ref })}\n`);
});

const where = passed ? 'the socket systemd passed (fd 3)' : `http://${host}:${port}/`;
server.listen(passed ? { fd: 3 } : { port, host }, () => console.log(`serving ${info.commit} on ${where}`));

// A graceful stop: accept nothing more (systemd keeps the socket, so new connections wait for the
// next process), let requests in flight finish, then exit. Since Node 19, close() also closes idle
// keep-alive connections, so they cannot hold the stop (and the next start) back.
process.once('SIGTERM', () => {
  stopping = true;
  server.close(() => process.exit(0));
});
