// Echo server on our binding: a Listener handing fds to socket Bufferevents whose
// read callback moves input to output. Usage: node binding-echo.mjs [--port N]
// [--max-read N] [--write-through] (or BENCH_MAX_READ=N, BENCH_WRITE_THROUGH=1);
// prints "listening <port>" when ready.
import { BEV, Bufferevent, EV, Listener } from '../../dist/index.js';

import { parseServerArgs } from './args.mjs';

const options = parseServerArgs({
  'max-read': { type: 'integer', env: 'BENCH_MAX_READ' },
  'write-through': { type: 'boolean', env: 'BENCH_WRITE_THROUGH' },
});

// Only the options asked for are passed, so the defaults stay libevent's own.
const socketOptions = { closeOnFree: true };
if (options['max-read'] !== undefined) socketOptions.maxReadPerWakeup = options['max-read'];
if (options['write-through']) socketOptions.writeThrough = true;

const callbacks = {
  read(bev) {
    bev.write(bev.input); // bufferevent_write_buffer; with write-through, writev straight from the input
  },
  event(bev, events) {
    if (events & (BEV.EOF | BEV.ERROR)) bev.free();
  },
};

const listener = await Listener.listen({ host: '127.0.0.1', port: options.port }, (fd) => {
  const bev = Bufferevent.socket({ fd, ...socketOptions });
  bev.setCallbacks(callbacks);
  bev.enable(EV.READ | EV.WRITE);
});
process.stdout.write(`listening ${listener.address.port}\n`);
