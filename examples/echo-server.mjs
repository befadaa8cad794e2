// `npm start`: a TCP echo server on the binding. Every byte a client sends comes back.
// Try it: `nc 127.0.0.1 7000` (or set PORT / HOST).
import { Bufferevent, Listener, EV, BEV, EventBase } from '../dist/index.js';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 7000);

const listener = Listener.listen({ host, port }, (fd, peer) => {
  const connection = Bufferevent.socket({ fd });
  connection.setCallbacks({
    read(bev) {
      bev.output.addBuffer(bev.input);
    },
    event(bev, events, error) {
      if (events & (BEV.EOF | BEV.ERROR)) {
        if (error) console.error(`${peer.address}:${peer.port}: ${error.code}`);
        bev.free();
      }
    },
  });
  connection.enable(EV.READ | EV.WRITE);
});

const { address, port: boundPort } = listener.address;
console.log(`echo server (libevent ${EventBase.default().libeventVersion}, ${EventBase.default().method}) on ${address}:${boundPort}`);
console.log('try: nc 127.0.0.1 ' + boundPort + '   (Ctrl-C stops the server)');
process.on('SIGINT', () => {
  listener.close();
  process.exit(0);
});
