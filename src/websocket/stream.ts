// createWebSocketStream: a WebSocket as a Duplex stream, as ws offers it. Messages become readable
// chunks; writes become messages. Backpressure both ways: a full readable buffer pauses the socket
// (TCP flow control then slows the peer) until the stream is read again, and a write completes only
// when its message was handed to the kernel, so the Duplex's writable buffer fills while the
// socket's queue is busy.
import { Duplex, type DuplexOptions } from 'node:stream';
import type { WebSocket } from './websocket.ts';

export function createWebSocketStream(ws: WebSocket, options?: DuplexOptions): Duplex {
  // An 'error' of the socket already closes it (with a close frame): terminating on destroy would
  // cut that frame off.
  let terminateOnDestroy = true;
  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
    read() {
      if (ws.isPaused) ws.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (ws.readyState === ws.CONNECTING) {
        ws.once('open', () => duplex._write(chunk, _encoding, callback));
        return;
      }
      ws.send(chunk, (error) => callback(error ?? null));
    },
    final(callback) {
      if (ws.readyState === ws.CONNECTING) {
        ws.once('open', () => duplex._final(callback));
        return;
      }
      if (ws.readyState === ws.CLOSED) {
        callback();
        return;
      }
      // Our side is done: start the close handshake; the readable side ends at 'close'.
      ws.close();
      callback();
    },
    destroy(error, callback) {
      if (ws.readyState === ws.CLOSED) {
        callback(error);
        process.nextTick(() => duplex.emit('close'));
        return;
      }
      let called = false;
      ws.once('error', (socketError: Error) => {
        called = true;
        callback(socketError);
      });
      ws.once('close', () => {
        if (!called) callback(error);
        process.nextTick(() => duplex.emit('close'));
      });
      if (terminateOnDestroy) ws.terminate();
    },
  });

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const chunk = !isBinary && duplex.readableObjectMode ? data.toString() : data;
    if (!duplex.push(chunk)) ws.pause();
  });
  ws.once('error', (error: Error) => {
    if (duplex.destroyed) return;
    terminateOnDestroy = false;
    duplex.destroy(error);
  });
  ws.once('close', () => {
    if (!duplex.destroyed) duplex.push(null);
  });
  duplex.on('end', () => {
    if (!duplex.destroyed && duplex.writableFinished) duplex.destroy();
  });
  const onError = (error: Error) => {
    duplex.removeListener('error', onError);
    duplex.destroy();
    // Without a listener of its own the error still throws, as any stream error does.
    if (duplex.listenerCount('error') === 0) duplex.emit('error', error);
  };
  duplex.on('error', onError);
  return duplex;
}
