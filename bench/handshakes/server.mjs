// The servers of the opening-handshake benchmark (bench/ws-handshakes.mjs), one per process:
//   native          our WebSocketServer on its native listener ({ port })
//   handle-upgrade  a Node http.Server whose 'upgrade' sockets our handleUpgrade takes over ({ noServer })
//   fallback        our native listener with httpFallback: a Node http.Server gets every non-upgrade
//   ws              the npm `ws` package ({ port }: ws's own Node http.Server)
//   node-http       a plain Node http.Server (the baseline for pages)
// Every server that serves pages answers GET with the same 6-byte 200; WebSocket connections get
// no handler beyond a no-op 'error' listener. Listens on 127.0.0.1 only; prints "listening <port>".
// Usage: node bench/handshakes/server.mjs <kind> [--port N]
import http from 'node:http';

import { parseServerArgs } from '../servers/args.mjs';

const KINDS = ['native', 'handle-upgrade', 'fallback', 'ws', 'node-http'];
const HOST = '127.0.0.1';
const PAGE = Buffer.from('hello\n');

const [kind, ...rest] = process.argv.slice(2);
if (!KINDS.includes(kind)) {
  process.stderr.write(`usage: node ${process.argv[1]} ${KINDS.join('|')} [--port N]\n`);
  process.exit(64);
}
const { port } = parseServerArgs({}, rest);

function servePage(request, response) {
  response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': PAGE.length });
  response.end(PAGE);
}

function announce(boundPort) {
  process.stdout.write(`listening ${boundPort}\n`);
}

function onConnection(ws) {
  ws.on('error', () => {}); // the client leaves right after the 101: nothing to report
}

if (kind === 'native') {
  const { WebSocketServer } = await import('../../dist/websocket/index.js');
  const wss = new WebSocketServer({ port, host: HOST }, () => announce(wss.address().port));
  wss.on('connection', onConnection);
} else if (kind === 'handle-upgrade') {
  const { WebSocketServer } = await import('../../dist/websocket/index.js');
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer(servePage);
  server.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  wss.on('connection', onConnection);
  server.listen(port, HOST, () => announce(server.address().port));
} else if (kind === 'fallback') {
  const { WebSocketServer } = await import('../../dist/websocket/index.js');
  const pages = http.createServer(servePage); // never listens: the native listener hands it sockets
  const wss = new WebSocketServer({ port, host: HOST, httpFallback: pages }, () =>
    announce(wss.address().port),
  );
  wss.on('connection', onConnection);
} else if (kind === 'ws') {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ port, host: HOST, perMessageDeflate: false }, () =>
    announce(wss.address().port),
  );
  wss.on('connection', onConnection);
} else {
  const server = http.createServer(servePage);
  server.listen(port, HOST, () => announce(server.address().port));
}
