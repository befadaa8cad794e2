// The listeners' parameters are typed, not `any`: each @ts-expect-error line must be an error (tsc
// reports an unused directive otherwise), under ws's types and ours alike.
import WebSocket, { WebSocketServer } from 'bufferevent/websocket';

const wss = new WebSocketServer({ port: 8080 });
const ws = new WebSocket('ws://localhost:8080/');

ws.on('close', (code, reason) => {
  // @ts-expect-error the code is a number
  const text: string = code;
  const bytes: Buffer = reason;
  console.log(text, bytes);
});
ws.on('message', (data, isBinary) => {
  // @ts-expect-error RawData is not a string
  const text: string = data;
  const flag: boolean = isBinary;
  console.log(text, flag);
});
ws.once('ping', (data) => {
  // @ts-expect-error a ping's payload is a Buffer
  const n: number = data;
  console.log(n);
});
ws.on('error', (error) => console.log(error.message));
wss.on('connection', (socket, request) => {
  // @ts-expect-error the socket is a WebSocket
  const text: string = socket;
  const url: string | undefined = request.url;
  console.log(text, url);
});
// @ts-expect-error the server option is an http.Server
new WebSocketServer({ server: 8080 });
