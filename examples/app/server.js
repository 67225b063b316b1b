// The example app mfd deploys: answers GET / with the commit it was built from, GET /health with ok.
// No dependencies; build.js (run by mfd) writes build-info.json beside it.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const info = JSON.parse(fs.readFileSync(path.join(__dirname, 'build-info.json'), 'utf8'));
const port = Number(process.env.PORT || 8080);
const host = process.env.HOST || '127.0.0.1';

const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify({ commit: info.commit, ref: info.ref })}\n`);
});

server.listen(port, host, () => console.log(`serving ${info.commit} on http://${host}:${port}/`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
