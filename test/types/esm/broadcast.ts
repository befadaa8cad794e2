// ws README, "Server broadcast": to every other open client, and to all of them.
import WebSocket, { WebSocketServer } from 'bufferevent/websocket';

const wss = new WebSocketServer({ port: 8080 });

function broadcast(data: WebSocket.RawData, isBinary: boolean, except?: WebSocket): void {
  wss.clients.forEach(function each(client) {
    if (client !== except && client.readyState === WebSocket.OPEN) {
      client.send(data, { binary: isBinary });
    }
  });
}

wss.on('connection', function connection(ws, request) {
  console.log('from', request.headers['user-agent'], request.url);
  ws.on('error', console.error);
  ws.on('message', function message(data, isBinary) {
    broadcast(data, isBinary, ws);
    broadcast(data, isBinary);
  });
});

const counts: Record<string, number> = {};
wss.on('listening', () => console.log('listening', wss.address()));
wss.on('close', () => console.log(counts));
