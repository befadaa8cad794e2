// CommonJS TypeScript with named imports (compiled to require()).
import { WebSocket, WebSocketServer } from 'bufferevent/websocket';

const wss = new WebSocketServer({ port: 8080 });
wss.on('connection', (ws, request) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('close', (code, reason) => console.log(code, reason.toString(), request.url));
});

const client = new WebSocket('ws://localhost:8080/', { headers: { 'X-Test': '1' } });
client.on('message', (data) => console.log(data));
