// The server of the idle-connection memory benchmark (bench/ws-memory.mjs), one per process,
// started with --expose-gc and an IPC channel:
//   ours         our WebSocketServer on its native listener ({ port })
//   handle-upgrade  our WebSocketServer ({ noServer }) taking over a Node http.Server's upgrade sockets
//   bufferevent  the layer under it alone: a native Listener whose connections become socket
//                bufferevents (the WebSocket's socket options), answered with a 101 and kept
//   ws           the npm `ws` package ({ port }, perMessageDeflate off)
// Every kind keeps what it accepted and does nothing with it (the WebSocket servers count their
// connections in `clients`, so no listener of the benchmark's is added per connection). Messages from the parent:
// { measure: true } → { memory } after collecting garbage; { snapshot: path } → a V8 heap
// snapshot written to `path`. Sends { port } once listening, { connections } on request.
// Usage: node --expose-gc bench/memory/idle-server.mjs <kind>   (fork()ed by ws-memory.mjs)
import { createRequire } from 'node:module';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

const KINDS = ['ours', 'handle-upgrade', 'bufferevent', 'ws'];
const HOST = '127.0.0.1';
const kind = process.argv[2];
if (!KINDS.includes(kind) || process.send === undefined || typeof globalThis.gc !== 'function') {
  process.stderr.write(`usage: fork() with --expose-gc: node ${process.argv[1]} ${KINDS.join('|')}\n`);
  process.exit(64);
}

// The addon's malloc statistics, when this build has them (any kind may load it: it allocates
// nothing until a loop is needed).
const addon = createRequire(import.meta.url)('../../build/Release/bufferevent.node');
const mallocStats = typeof addon.mallocStats === 'function' ? () => addon.mallocStats() : () => null;

let connections = () => 0;

if (kind === 'ours') {
  const { WebSocketServer } = await import('../../dist/websocket/index.js');
  const wss = new WebSocketServer({ port: 0, host: HOST }, () => process.send({ port: wss.address().port }));
  connections = () => wss.clients.size;
} else if (kind === 'handle-upgrade') {
  const http = await import('node:http');
  const { WebSocketServer } = await import('../../dist/websocket/index.js');
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer();
  server.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  server.listen(0, HOST, () => process.send({ port: server.address().port }));
  connections = () => wss.clients.size;
} else if (kind === 'bufferevent') {
  const { Bufferevent, Listener, EV } = await import('../../dist/index.js');
  const ANSWER = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
  const answered = new Set();
  const listener = Listener.listen({ host: HOST, port: 0 }, (fd) => {
    const bufferevent = Bufferevent.socket({ fd, maxReadPerWakeup: 64 * 1024, writeThrough: true });
    bufferevent.setCallbacks({
      read: (bev) => {
        bev.input.drain();
        if (answered.has(bev)) return;
        answered.add(bev);
        bev.write(ANSWER);
      },
      event: (bev) => {
        answered.delete(bev);
        bev.free();
      },
    });
    bufferevent.enable(EV.READ | EV.WRITE);
  });
  connections = () => answered.size;
  process.send({ port: listener.address.port });
} else {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ port: 0, host: HOST, perMessageDeflate: false }, () =>
    process.send({ port: wss.address().port }),
  );
  connections = () => wss.clients.size;
}

/** Several full collections, with loop turns between them so weak callbacks and finalizers run. */
async function collect() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

process.on('message', async (message) => {
  if (message.measure) {
    await collect();
    const usage = process.memoryUsage();
    process.send({
      memory: {
        connections: connections(),
        rss: usage.rss,
        heapUsed: usage.heapUsed,
        heapTotal: usage.heapTotal,
        external: usage.external,
        arrayBuffers: usage.arrayBuffers,
        malloc: mallocStats(),
        live: kind === 'ws' ? null : addon.baseStats(),
        spaces: Object.fromEntries(
          getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size]),
        ),
      },
    });
  } else if (message.snapshot) {
    await collect();
    writeHeapSnapshot(message.snapshot);
    process.send({ snapshot: message.snapshot });
  } else if (message.connections) {
    process.send({ connections: connections() });
  } else if (message.exit) {
    process.exit(0);
  }
});
