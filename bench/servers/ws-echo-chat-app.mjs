// The WebSocket benchmark's server contract, written once for any ws-compatible
// WebSocketServer class (ours and the npm `ws` package): `/echo` sends every
// message back with its type; `/chat` relays every message to every `/chat`
// client, sender included; any other path is closed with 1008 (policy violation).
// With `chatByPublish` (a server that has pub/sub, ours), `/chat` subscribes each
// client to one topic and relays with one `wss.publish` per message; otherwise,
// as ws must, with a JavaScript loop over the clients.
// Prints "listening <port>" when ready, as every benchmark server does.
import { parseServerArgs } from './args.mjs';

/** The port from `node <server> PORT`, or from `--port N` / PORT=N as for the other servers. */
export function portFromCommandLine(argv = process.argv.slice(2)) {
  const positional = argv.length === 1 && /^\d+$/.test(argv[0]);
  return parseServerArgs({}, positional ? ['--port', argv[0]] : argv).port;
}

/** Request path without the query string. */
function pathOf(url) {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/**
 * @param {new (options: object, callback?: () => void) => import('node:events').EventEmitter} WebSocketServer
 * @param {{ port: number, chatByPublish?: boolean }} options
 */
export function serveEchoChat(WebSocketServer, { port, chatByPublish = false }) {
  const chatClients = new Set();

  function echo(ws) {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  }

  function chatByPublishing(ws) {
    ws.subscribe('chat');
    ws.on('message', (data, isBinary) => wss.publish('chat', data, { binary: isBinary }));
  }

  function chat(ws) {
    if (chatByPublish) return chatByPublishing(ws);
    chatClients.add(ws);
    ws.on('close', () => chatClients.delete(ws));
    ws.on('message', (data, isBinary) => {
      for (const client of chatClients) {
        if (client.readyState === client.OPEN) client.send(data, { binary: isBinary });
      }
    });
  }

  const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false }, () => {
    process.stdout.write(`listening ${wss.address().port}\n`);
  });
  wss.on('connection', (ws, request) => {
    ws.on('error', () => ws.terminate()); // a client reset is not a server failure
    const path = pathOf(request.url ?? '/');
    if (path === '/echo') echo(ws);
    else if (path === '/chat') chat(ws);
    else ws.close(1008, 'unknown path');
  });
  return wss;
}
