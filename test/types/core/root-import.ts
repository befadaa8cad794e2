// The binding's own entry point, imported from ESM.
import { BEV, Bufferevent, EV, Listener, type SocketAddress } from 'bufferevent';

const listener = Listener.listen({ host: '127.0.0.1', port: 0 }, (fd: number, peer: SocketAddress) => {
  const bev = Bufferevent.socket({ fd });
  bev.setCallbacks({
    read: (b) => b.write(b.input),
    event: (b, events) => {
      if (events & (BEV.EOF | BEV.ERROR)) b.free();
    },
  });
  bev.enable(EV.READ | EV.WRITE);
  console.log(peer.address);
});
listener.close();
