// ws README, "Client authentication": a Node http server routes upgrades to a noServer
// WebSocketServer after checking the request.
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'bufferevent/websocket';

interface Client {
  name: string;
}

function onSocketError(err: Error): void {
  console.error(err);
}

function authenticate(request: IncomingMessage, next: (err: Error | null, client?: Client) => void): void {
  const token = request.headers.authorization;
  if (token === undefined) next(new Error('no token'));
  else next(null, { name: token.slice(7) });
}

const server = createServer();
const wss = new WebSocketServer({ noServer: true });

wss.on('connection', function connection(ws: WebSocket, request: IncomingMessage, client: Client) {
  ws.on('error', console.error);
  ws.on('message', function message(data) {
    console.log(`Received message ${String(data)} from user ${client.name} at ${request.url}`);
  });
});

server.on('upgrade', function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
  socket.on('error', onSocketError);

  authenticate(request, function next(err, client) {
    if (err || !client) {
      socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
      socket.destroy();
      return;
    }

    socket.removeListener('error', onSocketError);

    wss.handleUpgrade(request, socket, head, function done(ws) {
      wss.emit('connection', ws, request, client);
    });
  });
});

server.listen(8080);
