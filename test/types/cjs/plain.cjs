// Plain CommonJS JavaScript, type-checked (checkJs) as an editor would.
'use strict';
const WebSocket = require('bufferevent/websocket');
const { WebSocketServer } = require('bufferevent/websocket');

const wss = new WebSocketServer({ port: 8080 });
wss.on('connection', function connection(ws) {
  ws.on('message', function message(data, isBinary) {
    ws.send(data, { binary: isBinary });
  });
});

const ws = new WebSocket('ws://localhost:8080/');
ws.on('open', () => ws.send('something'));
ws.on('close', (code, reason) => console.log(code, reason.toString()));
