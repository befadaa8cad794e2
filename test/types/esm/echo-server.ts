// ws README, "Simple server": echo every message back, text as text and binary as binary.
import { WebSocketServer } from 'bufferevent/websocket';

const wss = new WebSocketServer({ port: 8080 });

wss.on('connection', function connection(ws) {
  ws.on('error', console.error);

  ws.on('message', function message(data, isBinary) {
    ws.send(data, { binary: isBinary });
  });

  ws.send('something');
});
