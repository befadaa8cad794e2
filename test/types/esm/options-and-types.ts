// The names @types/ws users import: options, data types, the server under both names.
import WebSocket, {
  WebSocketServer,
  type ClientOptions,
  type Data,
  type RawData,
  type ServerOptions,
} from 'bufferevent/websocket';

const serverOptions: ServerOptions = {
  port: 8081,
  maxPayload: 1024,
  clientTracking: true,
  perMessageDeflate: {
    threshold: 512,
    serverNoContextTakeover: true,
    zlibDeflateOptions: { level: 6, memLevel: 8 },
  },
};
const clientOptions: ClientOptions = {
  headers: { Cookie: 'a=b' },
  handshakeTimeout: 1000,
  perMessageDeflate: true,
};

const wss: WebSocketServer = new WebSocketServer(serverOptions, () => console.log('listening'));
wss.on('headers', (headers, request) => headers.push(`X-Path: ${request.url}`));
wss.on('error', (error) => console.error(error.message));

const ws: WebSocket = new WebSocket('ws://localhost:8081/', clientOptions);
const toText = (data: RawData | Data): string =>
  typeof data === 'string' ? data : Array.isArray(data) ? Buffer.concat(data).toString() : String(data);
ws.once('message', (data) => console.log(toText(data)));
ws.off('message', () => undefined);
ws.addListener('close', (code: number, reason: Buffer) => console.log(code, reason));
ws.prependListener('open', () => ws.send(Buffer.from('x'), (err) => err && console.error(err)));
ws.removeAllListeners('open');
