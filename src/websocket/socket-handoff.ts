// Moving a connection between Node's sockets and the binding's bufferevents (see docs/server.md):
// taking over a Node socket for a WebSocket (handleUpgrade), and handing a connection the native
// listener accepted to a Node http.Server when it is not a WebSocket upgrade.
import type { Server as HttpServer } from 'node:http';
import net from 'node:net';
import { Bufferevent } from '../bufferevent.ts';
import { EV } from '../constants.ts';
import { native } from '../native.ts';
import { WebSocketError } from './errors.ts';
import { SOCKET_FAST_PATHS } from './options.ts';

interface SocketWithHandle extends net.Socket {
  _handle?: { fd?: number } | null;
  encrypted?: boolean;
}

/**
 * Takes a Node socket's connection over: a duplicate of its fd becomes a socket bufferevent, Node's
 * socket is destroyed (never end()ed: that would shut the shared connection down), and the bytes
 * Node had already read (`head` and anything still buffered) are put back in front of the input.
 */
export function takeOverNodeSocket(socket: net.Socket, head: Buffer): Bufferevent {
  const withHandle = socket as SocketWithHandle;
  if (withHandle.encrypted) {
    throw new WebSocketError(
      'a TLS socket cannot be taken over (its encryption lives in Node); terminate TLS in front of this server',
      'WS_ERR_TLS_SOCKET',
    );
  }
  const fd = withHandle._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new WebSocketError(
      'the socket has no file descriptor to take over (closed or not TCP)',
      'WS_ERR_NO_FD',
    );
  }
  socket.pause();
  const buffered: Buffer[] = [];
  for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
    buffered.push(chunk);
  }
  const copy = native.dupSocket(fd);
  socket.destroy();
  const bufferevent = Bufferevent.socket({ fd: copy, ...SOCKET_FAST_PATHS });
  const pending = Buffer.concat([head, ...buffered]);
  if (pending.length > 0) bufferevent.input.prepend(pending);
  bufferevent.enable(EV.READ | EV.WRITE);
  return bufferevent;
}

/**
 * Gives a connection the native listener accepted to a Node http.Server, with the bytes already
 * read put back so Node's parser sees the request from its first byte.
 */
export function handToHttpServer(bufferevent: Bufferevent, server: HttpServer): void {
  const alreadyRead = bufferevent.input.remove();
  const copy = native.dupSocket(bufferevent.fd);
  bufferevent.free();
  const socket = new net.Socket({ fd: copy, readable: true, writable: true });
  server.emit('connection', socket);
  if (alreadyRead.length > 0) socket.unshift(alreadyRead);
}
