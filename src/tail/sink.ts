// Where a viewer's items go: anything that takes batches and says when it is full, like a WebSocket
// under its backpressure cap.
import type { TailItem } from './items.ts';

export interface TailSink {
  /**
   * Takes a batch (it is delivered). Returns false when the sink is now full: the viewer then writes
   * nothing more until the drain listener is called.
   */
  write(batch: readonly TailItem[]): boolean;
  /**
   * Registers `listener`, to be called whenever a full sink can take more. Called once per viewer;
   * may return a function that unregisters it (called when the viewer stops).
   */
  onDrain(listener: () => void): (() => void) | void;
}

/** The part of this package's WebSocket (or any ws-like socket) that a sink needs. */
export interface WebSocketLike {
  send(data: string): 'ok' | 'backpressure' | 'dropped' | unknown;
  on(event: 'drain', listener: () => void): unknown;
  off(event: 'drain', listener: () => void): unknown;
}

/**
 * A sink writing each batch as one text message (JSON by default). send() answering 'backpressure'
 * marks the sink full until the socket's 'drain' event; 'dropped' (the socket's own hard limit) too,
 * and that batch is lost.
 */
export function webSocketSink(
  socket: WebSocketLike,
  encode: (batch: readonly TailItem[]) => string = (batch) => JSON.stringify(batch),
): TailSink {
  return {
    write: (batch) => socket.send(encode(batch)) === 'ok',
    onDrain(listener) {
      socket.on('drain', listener);
      return () => socket.off('drain', listener);
    },
  };
}
