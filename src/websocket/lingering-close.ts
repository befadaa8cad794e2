// The lingering close of a refused handshake: the answer is written, the write side is shut down
// once it has drained (the client reads our FIN after the answer), and whatever the client still
// sends is read and thrown away until its FIN or a timeout; only then is the socket closed.
// Closing a socket with unread input makes the kernel send a reset instead of a FIN, and the
// client's kernel then discards the answer it has received but not yet handed to the client.
import type net from 'node:net';
import { BEV, EV } from '../constants.ts';
import type { Bufferevent } from '../bufferevent.ts';

/** A connection in its lingering close; `abort()` closes it at once (idempotent). */
export interface Lingering {
  abort(): void;
}

/**
 * Answers on a socket bufferevent and lingers. `onEnd` runs once, when the bufferevent was freed
 * (FIN and answer sent, timeout, socket error or abort).
 */
export function lingerBufferevent(
  bufferevent: Bufferevent,
  answer: string,
  timeoutMs: number,
  onEnd: () => void,
): Lingering {
  let over = false;
  let peerDone = false;
  const end = () => {
    if (over) return;
    over = true;
    clearTimeout(timer);
    bufferevent.free();
    onEnd();
  };
  // The peer's FIN can come before our answer left: free only once it has (a free drops the queue).
  const endWhenSent = () => {
    if (peerDone && bufferevent.output.length === 0) end();
  };
  const timer = setTimeout(end, timeoutMs);
  bufferevent.setCallbacks({
    read: () => void bufferevent.input.drain(),
    write: endWhenSent,
    event: (_bev, events) => {
      if (events & BEV.ERROR) {
        end();
      } else if (events & BEV.EOF) {
        peerDone = true;
        endWhenSent();
      }
    },
  });
  bufferevent.input.drain(); // what arrived with the refused head is not needed either
  bufferevent.enable(EV.READ | EV.WRITE);
  bufferevent.write(answer);
  bufferevent.shutdownWrite();
  return { abort: end };
}

/** The same for a Node socket (connections Node's http server accepted). */
export function lingerNodeSocket(
  socket: net.Socket,
  answer: string,
  timeoutMs: number,
  onEnd: () => void,
): Lingering {
  let over = false;
  let sent = false;
  let peerDone = false;
  const end = () => {
    if (over) return;
    over = true;
    clearTimeout(timer);
    socket.destroy();
    onEnd();
  };
  const timer = setTimeout(end, timeoutMs);
  if (socket.destroyed) {
    end();
    return { abort: end };
  }
  socket.on('error', end); // a reset: nothing more can be delivered
  socket.on('close', end);
  socket.on('finish', () => {
    sent = true;
    if (peerDone) end();
  });
  socket.on('end', () => {
    peerDone = true;
    if (sent) end();
  });
  socket.on('data', () => {}); // read and discarded
  socket.resume();
  socket.end(answer);
  return { abort: end };
}
