// A TCP relay between the browser and the WebSocket server that reads the frame headers passing
// through, so a test can tell what was on the wire: whether a message travelled compressed (RSV1 on
// its first frame) and how many payload bytes it took, independently of either end's own account.
// Bytes are forwarded unchanged and half-closes are passed on, so both ends see an ordinary
// connection.
import net from 'node:net';
import { FrameReader, type TappedFrame } from '../websocket/deflate/wire-tap.ts';

export type { TappedFrame };

const CONTINUATION = 0x0;
const FIRST_CONTROL_OPCODE = 0x8;

/** A data message as it crossed the wire: its frames put together. */
export interface TappedMessage {
  opcode: number;
  /** RSV1 of its first frame: the message was compressed. */
  compressed: boolean;
  /** RSV1 on any of its continuation frames (never allowed). */
  rsv1OnContinuation: boolean;
  frames: number;
  wireLength: number;
}

/** One direction of a connection: the HTTP head first, then frames (parsed by FrameReader). */
export class FrameLog {
  readonly #reader = new FrameReader();

  get head(): string {
    return this.#reader.head;
  }

  get frames(): readonly TappedFrame[] {
    return this.#reader.frames;
  }

  /** The data messages in order: complete ones, and with `unfinished` the last one's frames so far. */
  messages({ unfinished = false } = {}): TappedMessage[] {
    const messages: TappedMessage[] = [];
    let current: TappedMessage | undefined;
    for (const frame of this.frames) {
      if (frame.opcode >= FIRST_CONTROL_OPCODE) continue;
      if (frame.opcode !== CONTINUATION || current === undefined) {
        current = {
          opcode: frame.opcode,
          compressed: frame.rsv1,
          rsv1OnContinuation: false,
          frames: 0,
          wireLength: 0,
        };
      } else if (frame.rsv1) {
        current.rsv1OnContinuation = true;
      }
      current.frames++;
      current.wireLength += frame.length;
      if (frame.fin) {
        messages.push(current);
        current = undefined;
      }
    }
    if (unfinished && current !== undefined) messages.push(current);
    return messages;
  }

  controlFrames(): TappedFrame[] {
    return this.frames.filter((frame) => frame.opcode >= FIRST_CONTROL_OPCODE);
  }

  /** The value of a header of the HTTP head (first occurrence), undefined when absent. */
  header(name: string): string | undefined {
    const wanted = name.toLowerCase();
    for (const line of this.head.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted) {
        return line.slice(colon + 1).trim();
      }
    }
    return undefined;
  }

  read(chunk: Buffer): void {
    this.#reader.push(chunk);
  }
}

export interface TappedConnection {
  /** What the browser sent: its upgrade request, then its (masked) frames. */
  readonly toServer: FrameLog;
  /** What the server sent: its 101 answer, then its frames. */
  readonly toBrowser: FrameLog;
}

export class WireTap {
  readonly connections: TappedConnection[] = [];
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  private constructor(targetPort: number) {
    this.#server = net.createServer({ allowHalfOpen: true }, (browserSide) =>
      this.#relay(browserSide, targetPort),
    );
  }

  /** A relay on 127.0.0.1 (a port of its own) to `targetPort` on 127.0.0.1. */
  static async start(targetPort: number): Promise<WireTap> {
    const tap = new WireTap(targetPort);
    await new Promise<void>((resolve) => tap.#server.listen(0, '127.0.0.1', resolve));
    return tap;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  #relay(browserSide: net.Socket, targetPort: number): void {
    const connection: TappedConnection = { toServer: new FrameLog(), toBrowser: new FrameLog() };
    this.connections.push(connection);
    const serverSide = net.connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true });
    for (const socket of [browserSide, serverSide]) {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    }
    pipe(browserSide, serverSide, connection.toServer);
    pipe(serverSide, browserSide, connection.toBrowser);
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

/** Forwards `from` to `to` (backpressure, half-close and resets included), logging the frames. */
function pipe(from: net.Socket, to: net.Socket, log: FrameLog): void {
  from.on('data', (chunk: Buffer) => {
    log.read(chunk);
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('end', () => to.end());
  from.on('error', () => to.destroy());
  from.on('close', (hadError) => {
    if (hadError) to.destroy();
  });
}
