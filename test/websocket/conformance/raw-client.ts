// A raw WebSocket client over node:net for the conformance suite: it writes any bytes (broken
// handshakes, invalid frames, any chunking) and parses what the server answers, byte for byte.
import { createHash } from 'node:crypto';
import net from 'node:net';

export const OPCODE = { CONTINUATION: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

/** The masking key frames use unless a test passes its own. */
export const DEFAULT_MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
/** The sample key of RFC 6455 §1.3 and the accept value it must produce. */
export const RFC_SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const RFC_SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** How long any wait on the server lasts before the test fails (generous: a noisy 2-core machine). */
export const WAIT_MS = 10_000;

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  /** Default true. */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** The masking key, or `false` for an unmasked frame. Default DEFAULT_MASK. */
  mask?: Buffer | false;
  /** Announce this length instead of the payload's (for huge or lying headers). */
  length?: bigint | number;
  /** Force a length encoding; non-minimal ones (16 or 64 bits for a short payload) are legal. */
  encoding?: 7 | 16 | 64;
}

/** The bytes of one client frame, built here so the server is not tested against its own writer. */
export function buildFrame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const length = BigInt(spec.length ?? payload.length);
  const encoding = spec.encoding ?? (length <= 125n ? 7 : length <= 0xffffn ? 16 : 64);
  const mask = spec.mask === undefined ? DEFAULT_MASK : spec.mask;
  const first =
    (spec.fin === false ? 0 : 0x80) |
    (spec.rsv1 ? 0x40 : 0) |
    (spec.rsv2 ? 0x20 : 0) |
    (spec.rsv3 ? 0x10 : 0) |
    (spec.opcode & 0x0f);
  const maskBit = mask ? 0x80 : 0;
  let header: Buffer;
  if (encoding === 7) {
    header = Buffer.from([first, maskBit | Number(length)]);
  } else if (encoding === 16) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = maskBit | 126;
    header.writeUInt16BE(Number(length), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(length, 2);
  }
  if (!mask) return Buffer.concat([header, payload]);
  return Buffer.concat([header, mask, maskPayload(payload, mask)]);
}

/** XORs `payload` with the 4-byte key (masking and unmasking are the same operation). */
export function maskPayload(payload: Buffer, key: Buffer, offset = 0): Buffer {
  const out = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i]! ^ key[(offset + i) % 4]!;
  return out;
}

/** Shorthands for the common frames, masked with DEFAULT_MASK. */
export const frames = {
  text: (payload: Buffer | string, extra: Partial<FrameSpec> = {}) =>
    buildFrame({ opcode: OPCODE.TEXT, payload, ...extra }),
  binary: (payload: Buffer | string, extra: Partial<FrameSpec> = {}) =>
    buildFrame({ opcode: OPCODE.BINARY, payload, ...extra }),
  continuation: (payload: Buffer | string, extra: Partial<FrameSpec> = {}) =>
    buildFrame({ opcode: OPCODE.CONTINUATION, payload, ...extra }),
  ping: (payload: Buffer | string = '', extra: Partial<FrameSpec> = {}) =>
    buildFrame({ opcode: OPCODE.PING, payload, ...extra }),
  pong: (payload: Buffer | string = '', extra: Partial<FrameSpec> = {}) =>
    buildFrame({ opcode: OPCODE.PONG, payload, ...extra }),
  /** A close frame: no payload without `code`; with `code`, the 2-byte code then the reason. */
  close: (code?: number, reason: Buffer | string = '', extra: Partial<FrameSpec> = {}) =>
    buildFrame({ opcode: OPCODE.CLOSE, payload: code === undefined ? Buffer.alloc(0) : closePayload(code, reason), ...extra }),
};

export function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason) : reason]);
}

/** One frame as the server sent it. */
export interface ServerFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  /** Servers must not mask (RFC 6455 §5.1); recorded so tests can assert it. */
  masked: boolean;
  /** Unmasked payload. */
  payload: Buffer;
}

/** A data message reassembled from its frames, or a single control frame. */
export interface ServerMessage {
  opcode: number;
  data: Buffer;
  /** How many frames carried it. */
  frames: number;
}

/** The close code of a close frame (undefined when its payload is empty). */
export function closeCodeOf(frame: ServerFrame): number | undefined {
  return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined;
}

export function closeReasonOf(frame: ServerFrame): string {
  return frame.payload.subarray(2).toString();
}

/** Parses one server frame at the start of `bytes`: the frame and its size, or null if incomplete. */
export function parseServerFrame(bytes: Buffer): { frame: ServerFrame; size: number } | null {
  if (bytes.length < 2) return null;
  const first = bytes[0]!;
  const second = bytes[1]!;
  let offset = 2;
  let length = second & 0x7f;
  if (length === 126) {
    if (bytes.length < 4) return null;
    length = bytes.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (bytes.length < 10) return null;
    const long = bytes.readBigUInt64BE(2);
    if (long > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`the server announced a ${long}-byte frame`);
    length = Number(long);
    offset = 10;
  }
  const masked = (second & 0x80) !== 0;
  let key: Buffer | undefined;
  if (masked) {
    if (bytes.length < offset + 4) return null;
    key = bytes.subarray(offset, offset + 4);
    offset += 4;
  }
  if (bytes.length < offset + length) return null;
  const raw = bytes.subarray(offset, offset + length);
  return {
    frame: {
      fin: (first & 0x80) !== 0,
      rsv1: (first & 0x40) !== 0,
      rsv2: (first & 0x20) !== 0,
      rsv3: (first & 0x10) !== 0,
      opcode: first & 0x0f,
      masked,
      payload: key ? maskPayload(raw, key) : Buffer.from(raw),
    },
    size: offset + length,
  };
}

/** Parses a byte stream of server frames completely (throws when it ends inside a frame). */
export function parseServerFrames(bytes: Buffer): ServerFrame[] {
  const out: ServerFrame[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    const parsed = parseServerFrame(rest);
    if (parsed === null) throw new Error(`the stream ends inside a frame (${rest.length} bytes left)`);
    out.push(parsed.frame);
    rest = rest.subarray(parsed.size);
  }
  return out;
}

export interface HandshakeOptions {
  method?: string;
  path?: string;
  /** The version in the request line: '1.1' by default. */
  httpVersion?: string;
  /** Sec-WebSocket-Key; a fresh random 16-byte key by default. */
  key?: string;
  /** Sec-WebSocket-Protocol, joined with ', '. */
  protocols?: string[];
  /**
   * Header lines by name as written on the wire. A default header (Host, Upgrade, Connection,
   * Sec-WebSocket-Key, Sec-WebSocket-Version) is replaced when the same name appears here in any
   * case, removed when the value is null, and repeated when the value is an array.
   */
  headers?: Record<string, string | string[] | null>;
}

/** The request head for `options` and the key it carries. */
export function handshakeRequest(options: HandshakeOptions = {}): { text: string; key: string } {
  const key = options.key ?? randomKey();
  const defaults: Record<string, string> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
  };
  if (options.protocols !== undefined) defaults['Sec-WebSocket-Protocol'] = options.protocols.join(', ');
  const overrides = options.headers ?? {};
  const overridden = new Set(Object.keys(overrides).map((name) => name.toLowerCase()));
  const lines = [`${options.method ?? 'GET'} ${options.path ?? '/'} HTTP/${options.httpVersion ?? '1.1'}`];
  for (const [name, value] of Object.entries(defaults)) {
    if (!overridden.has(name.toLowerCase())) lines.push(`${name}: ${value}`);
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (value === null) continue;
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
  }
  return { text: `${lines.join('\r\n')}\r\n\r\n`, key };
}

export function randomKey(): string {
  const bytes = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  return bytes.toString('base64');
}

export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64');
}

export interface HttpResponse {
  httpVersion: string;
  statusCode: number;
  statusMessage: string;
  /** Lower-case names; a repeated header's values joined with ', '. */
  headers: Record<string, string>;
  /** [name, value] pairs as sent, in order. */
  rawHeaders: Array<[string, string]>;
}

export function parseResponseHead(head: string): HttpResponse {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const match = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(statusLine);
  if (match === null) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  const rawHeaders: Array<[string, string]> = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line ${JSON.stringify(line)}`);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    rawHeaders.push([name, value]);
    const lower = name.toLowerCase();
    headers[lower] = lower in headers ? `${headers[lower]}, ${value}` : value;
  }
  return { httpVersion: match[1]!, statusCode: Number(match[2]), statusMessage: match[3] ?? '', headers, rawHeaders };
}

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
    cuts = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
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
      throw new Error(`the server answered the handshake with ${response.statusCode} ${response.statusMessage}`);
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
      if (next.opcode !== OPCODE.CONTINUATION) throw new Error(`opcode ${next.opcode} inside a fragmented message`);
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
          const why = this.#error ? `${this.#error.code ?? this.#error.message}` : this.#fin ? 'FIN' : 'close';
          return finish(new Error(`the connection ended (${why}) while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)), WAIT_MS);
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
