// ws README, "How to detect and close broken connections?": server and client heartbeats, in the
// way TypeScript users keep the isAlive flag.
import WebSocket, { WebSocketServer } from 'bufferevent/websocket';

interface AliveWebSocket extends WebSocket {
  isAlive?: boolean;
}

function heartbeat(this: AliveWebSocket): void {
  this.isAlive = true;
}

const wss = new WebSocketServer({ port: 8080 });

wss.on('connection', function connection(ws: AliveWebSocket) {
  ws.isAlive = true;
  ws.on('error', console.error);
  ws.on('pong', heartbeat);
});

const interval = setInterval(function ping() {
  wss.clients.forEach(function each(client) {
    const ws = client as AliveWebSocket;
    if (ws.isAlive === false) return ws.terminate();

    ws.isAlive = false;
    ws.ping();
  });
}, 30000);

wss.on('close', function close() {
  clearInterval(interval);
});

// The client side.
const pingTimeouts = new WeakMap<WebSocket, NodeJS.Timeout>();

function clientHeartbeat(this: WebSocket): void {
  clearTimeout(pingTimeouts.get(this));
  pingTimeouts.set(
    this,
    setTimeout(() => {
      this.terminate();
    }, 30000 + 1000),
  );
}

const client = new WebSocket('ws://localhost:8080/');

client.on('error', console.error);
client.on('open', clientHeartbeat);
client.on('ping', clientHeartbeat);
client.on('close', function clear() {
  clearTimeout(pingTimeouts.get(this));
});
