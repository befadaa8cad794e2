// verifyClient (sync and with a callback) and reading the port the server listens on.
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'bufferevent/websocket';

const wss = new WebSocketServer({
  port: 0,
  verifyClient: (info, done) => {
    const token = info.req.headers['sec-websocket-protocol'];
    if (token === undefined) done(false, 401, 'Unauthorized');
    else done(true);
  },
});
const strict = new WebSocketServer({
  noServer: true,
  // A synchronous verifyClient needs its parameter annotated under @types/ws too.
  verifyClient: (info: { origin: string; secure: boolean; req: IncomingMessage }) =>
    info.origin === 'https://example.com' && !info.secure && info.req.headers.host !== undefined,
});
wss.on('listening', () => {
  const { port } = wss.address() as AddressInfo;
  console.log(port, strict.clients.size);
});
