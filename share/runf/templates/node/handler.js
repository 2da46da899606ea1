// A runf function in warm mode: long-lived instances share the function's
// listening socket, which runfd passes as fd 3 (LISTEN_FDS=1, systemd's
// Accept=no), and accept connections themselves until SIGTERM.  Edit
// handle().
//
// Run it outside runf too: without LISTEN_FDS it listens on
// 127.0.0.1:$PORT (default 8080).
'use strict';
const http = require('http');

function handle(req, body) {
  const name = process.env.RUNF_FUNCTION || '__NAME__';
  return { status: 200, type: 'text/plain', body: `Hello from ${name}: ${req.method} ${req.url}\n${body}` };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const out = handle(req, Buffer.concat(chunks).toString());
    res.writeHead(out.status, { 'Content-Type': out.type, 'Content-Length': Buffer.byteLength(out.body) });
    res.end(out.body);
  });
});

if (process.env.LISTEN_FDS === '1')
  server.listen({ fd: 3 });
else
  server.listen(Number(process.env.PORT || 8080), '127.0.0.1');

// SIGTERM: stop accepting, finish the requests in flight, exit.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
