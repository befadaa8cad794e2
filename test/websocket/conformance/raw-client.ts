// A raw WebSocket client over node:net for the conformance suite: it writes any bytes (broken
// handshakes, invalid frames, any chunking) and parses what the server answers, byte for byte.
import net from 'node:net';
import { OPCODE, parseServerFrame, type ServerFrame, type ServerMessage } from './frame-codec.ts';
import {
  handshakeRequest,
  parseResponseHead,
  type HandshakeOptions,
  type HttpResponse,
} from './http-head.ts';

export * from './frame-codec.ts';
export * from './http-head.ts';

/** How long any wait on the server lasts before the test fails (generous: a noisy 2-core machine). */
export const WAIT_MS = 10_000;

/**
 * How `send` cuts its bytes into writes: one write, 1 byte per write, writes of the given sizes (the
 * rest in one last write), or cuts at the given offsets. Between two writes the loop turns, so the
 * in-process server reads each write on its own.
 */
export type Chunking = 'whole' | 'bytewise' | { sizes: number[] } | { splitAt: number[] };

export function chunksOf(bytes: Buffer, chunking: Chunking): Buffer[] {
  if (chunking === 'whole') return [bytes];
  let cuts: number[];
  if (chunking === 'bytewise') {
    cuts = Array.from({ length: Math.max(bytes.length - 1, 0) }, (_, i) => i + 1);
  } else if ('sizes' in chunking) {
    cuts = [];
    let at = 0;
    for (const size of chunking.sizes) cuts.push((at += size));
  } else {
    cuts = chunking.splitAt;
  }
  const out: Buffer[] = [];
  let start = 0;
  for (const cut of cuts) {
    const end = Math.min(Math.max(cut, start), bytes.length);
    if (end > start) out.push(bytes.subarray(start, end));
    start = end;
  }
  if (start < bytes.length || out.length === 0) out.push(bytes.subarray(start));
  return out;
}

/**
 * 1-byte writes for the first and last `edge` bytes and `middle`-byte writes between: the splits that
 * matter (every header byte, payload start and end) for a large frame, in far fewer writes.
 */
export function bytewiseEdges(total: number, edge: number, middle: number): Chunking {
  if (total <= 2 * edge) return 'bytewise';
  const sizes = Array<number>(edge).fill(1);
  let at = edge;
  while (total - edge - at > middle) {
    sizes.push(middle);
    at += middle;
  }
  sizes.push(total - edge - at);
  for (let i = 0; i < edge - 1; i++) sizes.push(1);
  return { sizes };
}

/** Two setImmediate turns: at least one poll phase runs, so the server reads what was written. */
export async function loopTurn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

/** How the server ended the TCP connection: a FIN, or a reset (data of ours it never read). */
export type TcpEnd = 'fin' | 'reset';

export class RawClient {
  readonly #socket: net.Socket;
  #received: Buffer = Buffer.alloc(0);
  #headDone = false;
  #fin = false;
  #closed = false;
  #error: (Error & { code?: string }) | undefined;
  #wakers = new Set<() => void>();
  /** Every frame read so far, in order (control frames included). */
  readonly frames: ServerFrame[] = [];
  /** The key of the handshake sent with `handshake()`. */
  key = '';

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#received = this.#received.length === 0 ? chunk : Buffer.concat([this.#received, chunk]);
      this.#wake();
    });
    socket.on('end', () => {
      this.#fin = true;
      this.#wake();
    });
    socket.on('error', (error) => {
      this.#error ??= error;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.setNoDelay(true);
      const client = new RawClient(socket);
      socket.once('connect', () => resolve(client));
      socket.once('error', reject);
    });
  }

  /** Connects and completes a valid handshake (or the given one), failing unless the answer is 101. */
  static async open(port: number, options: HandshakeOptions = {}): Promise<RawClient> {
    const client = await RawClient.connect(port);
    const response = await client.handshake(options);
    if (response.statusCode !== 101) {
      client.destroy();
      throw new Error(
        `the server answered the handshake with ${response.statusCode} ${response.statusMessage}`,
      );
    }
    return client;
  }

  /** Sends a handshake request built from `options` and reads the response head. */
  async handshake(options: HandshakeOptions = {}): Promise<HttpResponse> {
    const { text, key } = handshakeRequest(options);
    this.key = key;
    await this.send(Buffer.from(text, 'latin1'));
    return this.readResponseHead();
  }

  /** Writes `bytes` in the given chunking, each write finished before the next; stops if the socket broke. */
  async send(bytes: Buffer | string, chunking: Chunking = 'whole'): Promise<void> {
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    const chunks = chunksOf(data, chunking);
    for (let i = 0; i < chunks.length; i++) {
      if (i > 0) await loopTurn();
      if (!(await this.#write(chunks[i]!))) return;
    }
  }

  #write(chunk: Buffer): Promise<boolean> {
    if (this.#socket.destroyed || !this.#socket.writable) return Promise.resolve(false);
    return new Promise((resolve) => this.#socket.write(chunk, (error) => resolve(!error)));
  }

  /** Reads the HTTP response head (up to the blank line); the bytes after it are frames or a body. */
  async readResponseHead(): Promise<HttpResponse> {
    if (this.#headDone) throw new Error('the response head was already read');
    let end = -1;
    await this.#until(() => (end = this.#received.indexOf('\r\n\r\n')) >= 0, 'the response head');
    const head = this.#received.subarray(0, end).toString('latin1');
    this.#received = this.#received.subarray(end + 4);
    this.#headDone = true;
    return parseResponseHead(head);
  }

  /** Reads the next frame the server sends. */
  async readFrame(what = 'a frame'): Promise<ServerFrame> {
    if (!this.#headDone) throw new Error('read the response head first');
    let parsed: ReturnType<typeof parseServerFrame> = null;
    await this.#until(() => (parsed = parseServerFrame(this.#received)) !== null, what);
    const { frame, size } = parsed!;
    this.#received = this.#received.subarray(size);
    this.frames.push(frame);
    return frame;
  }

  /** Reads the next message: a data message reassembled from its frames, or one control frame. */
  async readMessage(): Promise<ServerMessage> {
    const first = await this.readFrame('a message');
    if (first.opcode >= 0x8 || first.fin) return { opcode: first.opcode, data: first.payload, frames: 1 };
    const parts = [first.payload];
    let count = 1;
    for (;;) {
      const next = await this.readFrame('the next fragment');
      if (next.opcode >= 0x8) throw new Error(`a control frame (opcode ${next.opcode}) inside a message`);
      if (next.opcode !== OPCODE.CONTINUATION)
        throw new Error(`opcode ${next.opcode} inside a fragmented message`);
      parts.push(next.payload);
      count++;
      if (next.fin) return { opcode: first.opcode, data: Buffer.concat(parts), frames: count };
    }
  }

  /** Reads `count` messages. */
  async readMessages(count: number): Promise<ServerMessage[]> {
    const out: ServerMessage[] = [];
    for (let i = 0; i < count; i++) out.push(await this.readMessage());
    return out;
  }

  /**
   * Reads frames until a close frame and returns it; `before` holds the messages that came first.
   * Fails if the connection ends without one.
   */
  async waitForCloseFrame(): Promise<ServerFrame & { before: ServerMessage[] }> {
    const before: ServerMessage[] = [];
    for (;;) {
      const message = await this.readMessage();
      if (message.opcode === OPCODE.CLOSE) {
        return { ...this.frames[this.frames.length - 1]!, before };
      }
      before.push(message);
    }
  }

  /** Resolves once the server ended the TCP connection: 'fin' for an orderly close, 'reset' otherwise. */
  async waitForTcpClose(): Promise<TcpEnd> {
    await this.#until(() => this.#fin || this.#closed, 'the server to close the TCP connection', true);
    return this.#fin ? 'fin' : 'reset';
  }

  /** Every byte after the response head until the server closes TCP (then nothing is left unread). */
  async readUntilTcpClose(): Promise<{ bytes: Buffer; end: TcpEnd }> {
    const end = await this.waitForTcpClose();
    const bytes = this.#received;
    this.#received = Buffer.alloc(0);
    return { bytes, end };
  }

  /** Bytes received and not consumed yet. */
  get unread(): Buffer {
    return this.#received;
  }

  /** True once the server's FIN arrived or the socket closed. */
  get ended(): boolean {
    return this.#fin || this.#closed;
  }

  /** The socket error seen, if any (ECONNRESET, EPIPE). */
  get error(): (Error & { code?: string }) | undefined {
    return this.#error;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #wake(): void {
    for (const wake of this.#wakers) wake();
  }

  /**
   * Resolves when `predicate` holds, re-checked on every socket event; fails after WAIT_MS, or as soon
   * as the connection is over without it (unless `endIsFine`).
   */
  #until(predicate: () => boolean, what: string, endIsFine = false): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate()) return finish();
        if (!endIsFine && (this.#fin || this.#closed)) {
          const why = this.#error
            ? `${this.#error.code ?? this.#error.message}`
            : this.#fin
              ? 'FIN'
              : 'close';
          return finish(new Error(`the connection ended (${why}) while waiting for ${what}`));
        }
      };
      const timer = setTimeout(
        () => finish(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)),
        WAIT_MS,
      );
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.#wakers.delete(check);
        if (error) reject(error);
        else resolve();
      };
      this.#wakers.add(check);
      check();
    });
  }
}
