// Echo server on node:net (socket.pipe(socket)): the Node baseline.
// Usage: node net-echo.mjs [--port N]; prints "listening <port>" when ready.
import net from 'node:net';

import { parseServerArgs } from './args.mjs';

const { port } = parseServerArgs({});

const server = net.createServer((socket) => {
  socket.on('error', () => socket.destroy()); // a client reset is not a server failure
  socket.pipe(socket);
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
