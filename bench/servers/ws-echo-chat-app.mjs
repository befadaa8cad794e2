// The WebSocket benchmark's server contract, written once for any ws-compatible
// WebSocketServer class (ours and the npm `ws` package): `/echo` sends every
// message back with its type; `/chat` relays every message to every `/chat`
// client, sender included; any other path is closed with 1008 (policy violation).
// With `chatByPublish` (a server that has pub/sub, ours), `/chat` subscribes each
// client to one topic and relays with one `wss.publish` per message; otherwise,
// as ws must, with a JavaScript loop over the clients.
// permessage-deflate is off unless asked for: `--deflate` (BENCH_DEFLATE=1) turns it on with the
// defaults (`perMessageDeflate: true`: context takeover both ways, threshold 1024 bytes),
// `--deflate-no-context-takeover` (BENCH_DEFLATE_NO_CONTEXT_TAKEOVER=1) with
// serverNoContextTakeover and clientNoContextTakeover; both servers get the same object.
// Prints "listening <port>" when ready, as every benchmark server does. Started with --expose-gc, it
// runs a full garbage collection on SIGUSR2 (bench/lib/idle-memory.mjs's settled reading asks for it).
import { parseServerArgs } from './args.mjs';

const FLAGS = {
  deflate: { type: 'boolean', env: 'BENCH_DEFLATE' },
  'deflate-no-context-takeover': { type: 'boolean', env: 'BENCH_DEFLATE_NO_CONTEXT_TAKEOVER' },
};

/**
 * The port from `node <server> PORT`, or from `--port N` / PORT=N as for the other servers, and
 * the `perMessageDeflate` option the deflate flags ask for (false without them).
 */
export function optionsFromCommandLine(argv = process.argv.slice(2)) {
  const positional = argv.length === 1 && /^\d+$/.test(argv[0]);
  const values = parseServerArgs(FLAGS, positional ? ['--port', argv[0]] : argv);
  let perMessageDeflate = false;
  if (values['deflate-no-context-takeover'])
    perMessageDeflate = { serverNoContextTakeover: true, clientNoContextTakeover: true };
  else if (values.deflate) perMessageDeflate = true;
  return { port: values.port, perMessageDeflate };
}

/** Request path without the query string. */
function pathOf(url) {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/**
 * @param {new (options: object, callback?: () => void) => import('node:events').EventEmitter} WebSocketServer
 * @param {{ port: number, chatByPublish?: boolean, perMessageDeflate?: boolean | object }} options
 */
export function serveEchoChat(WebSocketServer, { port, chatByPublish = false, perMessageDeflate = false }) {
  const chatClients = new Set();
  if (typeof globalThis.gc === 'function') process.on('SIGUSR2', () => globalThis.gc());

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

  const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate }, () => {
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
