// CommonJS TypeScript in ws's oldest style: the module is the WebSocket class.
import WebSocket = require('bufferevent/websocket');

const compression: WebSocket.PerMessageDeflateOptions = { clientNoContextTakeover: true, threshold: 256 };
const wss = new WebSocket.Server({ port: 8080, perMessageDeflate: compression });
const other: WebSocket.Server = new WebSocket.WebSocketServer({ noServer: true });

wss.on('connection', (ws: WebSocket) => {
  ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
    wss.clients.forEach((client) => {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    });
  });
});

const client = new WebSocket('ws://localhost:8080/');
client.on('open', () => client.send('hi'));
other.close();
