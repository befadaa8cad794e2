// Bad input: raw node:net peers that send what no well-behaved client sends — oversized and
// impossible frame lengths, unmasked frames, garbage instead of a handshake, a handshake one byte at
// a time, huge heads, peers that vanish mid-message, peers that stop reading — against our
// WebSocketServer. The server answers each with the documented status or close code, keeps serving
// everyone else, reports errors only with WS_ERR_* codes, and leaks nothing.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket, type WebSocketServerOptions } from '../../src/websocket/index.ts';
import { EventBase } from '../../src/index.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';

const WAIT_MS = 20_000;
const MASK = Buffer.from([0x5a, 0x13, 0xc4, 0x8e]);
const OP = { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

checkNothingLeaksAfterEach({ fds: true });

function liveWebSockets(): number {
  return EventBase.default().stats().liveWebSockets;
}

// ---------------------------------------------------------------------------------------------
// Client frames, built by hand so the server is not tested against our own frame writer.

interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  rsv?: number; // bits 0x40, 0x20, 0x10
  mask?: Buffer | false;
  /** Announce this length instead of the payload's. */
  length?: bigint;
}

function frame(spec: FrameSpec): Buffer {
  const payload =
    typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const length = spec.length ?? BigInt(payload.length);
  const mask = spec.mask === undefined ? MASK : spec.mask;
  const first = (spec.fin === false ? 0 : 0x80) | (spec.rsv ?? 0) | spec.opcode;
  const maskBit = mask ? 0x80 : 0;
  let header: Buffer;
  if (length <= 125n) {
    header = Buffer.from([first, maskBit | Number(length)]);
  } else if (length <= 0xffffn) {
    header = Buffer.from([first, maskBit | 126, 0, 0]);
    header.writeUInt16BE(Number(length), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(length, 2);
  }
  if (!mask) return Buffer.concat([header, payload]);
  const masked = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

function closePayload(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}

// ---------------------------------------------------------------------------------------------
// Server frames, parsed as a stream.

interface ServerFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  length: number;
  /** Empty for data frames when the reader does not keep payloads. */
  payload: Buffer;
}

class FrameReader {
  readonly frames: ServerFrame[] = [];
  #pending = Buffer.alloc(0);
  #current: { frame: ServerFrame; remaining: number; chunks: Buffer[]; mask: Buffer | null } | null = null;

  constructor(readonly keepDataPayloads = true) {}

  push(chunk: Buffer): void {
    while (chunk.length > 0) {
      const current = this.#current;
      if (current !== null) {
        const take = Math.min(current.remaining, chunk.length);
        if (this.keepDataPayloads || current.frame.opcode >= 8) current.chunks.push(chunk.subarray(0, take));
        current.remaining -= take;
        chunk = chunk.subarray(take);
        if (current.remaining === 0) this.#finish();
        continue;
      }
      const data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
      this.#pending = Buffer.alloc(0);
      if (data.length < 2) {
        this.#pending = Buffer.from(data);
        return;
      }
      const masked = (data[1]! & 0x80) !== 0;
      const short = data[1]! & 0x7f;
      const lengthBytes = short === 126 ? 2 : short === 127 ? 8 : 0;
      const headerLength = 2 + lengthBytes + (masked ? 4 : 0);
      if (data.length < headerLength) {
        this.#pending = Buffer.from(data);
        return;
      }
      const length =
        short === 126 ? data.readUInt16BE(2) : short === 127 ? Number(data.readBigUInt64BE(2)) : short;
      this.#current = {
        frame: {
          fin: (data[0]! & 0x80) !== 0,
          rsv: data[0]! & 0x70,
          opcode: data[0]! & 0x0f,
          masked,
          length,
          payload: Buffer.alloc(0),
        },
        remaining: length,
        chunks: [],
        mask: masked ? data.subarray(2 + lengthBytes, headerLength) : null,
      };
      chunk = data.subarray(headerLength);
      if (length === 0) this.#finish();
    }
  }

  #finish(): void {
    const current = this.#current!;
    this.#current = null;
    const payload = Buffer.concat(current.chunks);
    if (current.mask !== null) for (let i = 0; i < payload.length; i++) payload[i]! ^= current.mask[i % 4]!;
    current.frame.payload = payload;
    this.frames.push(current.frame);
  }

  closeFrame(): { code: number; reason: string } | undefined {
    const close = this.frames.find((f) => f.opcode === OP.CLOSE);
    if (close === undefined) return undefined;
    return close.payload.length >= 2
      ? { code: close.payload.readUInt16BE(0), reason: close.payload.subarray(2).toString() }
      : { code: 1005, reason: '' };
  }
}

// ---------------------------------------------------------------------------------------------
// A raw TCP peer.

class RawPeer {
  readonly socket: net.Socket;
  /** Every byte received before the end of the HTTP head (all of them if no head ever ends). */
  head = Buffer.alloc(0);
  headDone = false;
  readonly reader: FrameReader;
  connected = false;
  ended = false;
  closed = false;
  socketErrors: Error[] = [];

  constructor(port: number, keepDataPayloads = true) {
    this.reader = new FrameReader(keepDataPayloads);
    this.socket = net.connect({ host: '127.0.0.1', port }, () => (this.connected = true));
    this.socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.socket.on('end', () => (this.ended = true));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', (error) => this.socketErrors.push(error)); // EPIPE/ECONNRESET after the server hangs up
  }

  #onData(chunk: Buffer): void {
    if (this.headDone) {
      this.reader.push(chunk);
      return;
    }
    this.head = Buffer.concat([this.head, chunk]);
    const end = this.head.indexOf('\r\n\r\n');
    if (end < 0) return;
    this.headDone = true;
    const rest = this.head.subarray(end + 4);
    this.head = this.head.subarray(0, end + 4);
    if (this.status === 101 && rest.length > 0) this.reader.push(rest);
  }

  /** The status code of the answer, once its head arrived. */
  get status(): number | undefined {
    const match = /^HTTP\/1\.1 (\d{3})/.exec(this.head.toString('latin1'));
    return match === null ? undefined : Number(match[1]);
  }

  write(bytes: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Sends a valid upgrade request and waits for the 101. */
  async handshake(path = '/', extraHeaders: string[] = []): Promise<void> {
    const key = randomBytes(16).toString('base64');
    this.write(upgradeRequest(path, key, extraHeaders));
    await waitFor(() => this.headDone || this.closed, WAIT_MS, 'the answer to the upgrade request');
    expect(this.status).toBe(101);
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    expect(this.head.toString('latin1')).toContain(`Sec-WebSocket-Accept: ${accept}`);
  }

  async closed_(): Promise<void> {
    await waitFor(() => this.closed, WAIT_MS, 'the raw socket to close');
  }
}

function upgradeRequest(path: string, key: string, extraHeaders: string[] = []): string {
  return [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    ...extraHeaders,
    '',
    '',
  ].join('\r\n');
}

// ---------------------------------------------------------------------------------------------
// The server under test.

interface ServerSide {
  ws: WebSocket;
  messages: Array<{ data: Buffer; isBinary: boolean }>;
  errors: Array<Error & { code?: string; closeCode?: number }>;
  closes: Array<{ code: number; reason: string }>;
}

interface Harness {
  wss: WebSocketServer;
  port: number;
  accepted: ServerSide[];
  /** 'wsClientError' events (rejected handshakes). */
  clientErrors: Array<Error & { code?: string }>;
  peers: RawPeer[];
  peer(keepDataPayloads?: boolean): RawPeer;
  /** A raw peer that completed the handshake, with its server side. */
  open(): Promise<{ peer: RawPeer; server: ServerSide }>;
  /** Proves the server still works: a fresh client gets an echo. */
  echoWorks(): Promise<void>;
  close(): Promise<void>;
}

let current: Harness | undefined;

afterEach(async () => {
  const harness = current;
  current = undefined;
  if (harness === undefined) return;
  await harness.close();
  // Every error the server reported, of any kind, carries a documented WS_ERR_* code.
  for (const error of [...harness.accepted.flatMap((side) => side.errors), ...harness.clientErrors]) {
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toMatch(/^WS_ERR_[A-Z0-9_]+$/);
  }
});

async function startServer(
  options: Partial<WebSocketServerOptions> = {},
  { listenForErrors = true, echo = true }: { listenForErrors?: boolean; echo?: boolean } = {},
): Promise<Harness> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  const accepted: ServerSide[] = [];
  const clientErrors: Array<Error & { code?: string }> = [];
  wss.on('wsClientError', (error: Error & { code?: string }) => clientErrors.push(error));
  wss.on('connection', (ws: WebSocket) => {
    const side: ServerSide = { ws, messages: [], errors: [], closes: [] };
    accepted.push(side);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      side.messages.push({ data, isBinary });
      if (echo) ws.send(data, { binary: isBinary });
    });
    if (listenForErrors) ws.on('error', (error: Error & { code?: string }) => side.errors.push(error));
    ws.on('close', (code: number, reason: Buffer) => side.closes.push({ code, reason: reason.toString() }));
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as { port: number }).port;
  const peers: RawPeer[] = [];
  const harness: Harness = {
    wss,
    port,
    accepted,
    clientErrors,
    peers,
    peer(keepDataPayloads = true) {
      const peer = new RawPeer(port, keepDataPayloads);
      peers.push(peer);
      return peer;
    },
    async open() {
      const before = accepted.length;
      const peer = harness.peer();
      await peer.handshake();
      await waitFor(() => accepted.length === before + 1, WAIT_MS, "the server's 'connection'");
      return { peer, server: accepted[before]! };
    },
    async echoWorks() {
      const { peer, server } = await harness.open();
      peer.write(frame({ opcode: OP.TEXT, payload: 'still here?' }));
      await waitFor(() => peer.reader.frames.length === 1 || peer.closed, WAIT_MS, 'the echo');
      expect(peer.reader.frames[0]).toMatchObject({ fin: true, opcode: OP.TEXT, masked: false });
      expect(peer.reader.frames[0]!.payload.toString()).toBe('still here?');
      peer.write(frame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
      await peer.closed_();
      await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
      expect(server.closes).toEqual([{ code: 1000, reason: '' }]);
      expect(server.errors).toEqual([]);
    },
    async close() {
      for (const peer of peers) peer.socket.destroy();
      await waitFor(() => peers.every((peer) => peer.closed), WAIT_MS, 'every raw socket closed');
      await waitFor(
        () => accepted.every((side) => side.closes.length === 1),
        WAIT_MS,
        "every server-side 'close'",
      );
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await waitFor(() => liveWebSockets() === 0, WAIT_MS, 'no live native WebSocket connection');
      // Refused handshakes linger until the peer reads the answer; every peer is gone, so they end.
      await waitFor(() => EventBase.default().stats().liveBufferevents === 0, WAIT_MS, 'no live bufferevent');
      await turns(3);
    },
  };
  current = harness;
  return harness;
}

/** Waits for the server's close frame and TCP close, returning the close frame's code and reason. */
async function closedByServer(peer: RawPeer): Promise<{ code: number; reason: string }> {
  await waitFor(() => peer.closed, WAIT_MS, 'the server to close the connection');
  const close = peer.reader.closeFrame();
  expect(close).toBeDefined();
  return close!;
}

// ---------------------------------------------------------------------------------------------

describe('a message larger than maxPayload', () => {
  it('closes with 1009, reports WS_ERR_UNSUPPORTED_MESSAGE_LENGTH, and the server keeps serving others', async () => {
    const harness = await startServer({ maxPayload: 4096 });
    const bystander = await harness.open();
    const { peer, server } = await harness.open();
    // Only the header: the server must decide from the announced length, before any payload.
    peer.write(frame({ opcode: OP.BINARY, length: 4097n }).subarray(0, 8));
    const close = await closedByServer(peer);
    expect(close.code).toBe(1009);
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.messages).toEqual([]);
    expect(server.errors.map((error) => [error.code, error.closeCode])).toEqual([
      ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009],
    ]);
    expect(server.closes).toEqual([{ code: 1009, reason: expect.any(String) }]);
    // The connection opened before is untouched, and new ones work.
    expect(bystander.server.ws.readyState).toBe(bystander.server.ws.OPEN);
    bystander.peer.write(frame({ opcode: OP.TEXT, payload: 'ok' }));
    await waitFor(() => bystander.peer.reader.frames.length === 1, WAIT_MS, "the bystander's echo");
    expect(bystander.peer.reader.frames[0]!.payload.toString()).toBe('ok');
    await harness.echoWorks();
  });

  it('closes with 1009 when fragments add up past maxPayload', async () => {
    const harness = await startServer({ maxPayload: 4096 });
    const { peer, server } = await harness.open();
    peer.write(frame({ opcode: OP.TEXT, payload: 'a'.repeat(3000), fin: false }));
    peer.write(frame({ opcode: OP.CONTINUATION, payload: 'b'.repeat(3000) }));
    expect((await closedByServer(peer)).code).toBe(1009);
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.messages).toEqual([]);
    expect(server.errors.map((error) => error.code)).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });

  it('closes with 1009 past maxFragments', async () => {
    const harness = await startServer({ maxFragments: 4 });
    const { peer, server } = await harness.open();
    for (let i = 0; i < 5; i++)
      peer.write(frame({ opcode: i === 0 ? OP.TEXT : OP.CONTINUATION, payload: 'x', fin: false }));
    expect((await closedByServer(peer)).code).toBe(1009);
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.errors.map((error) => error.code)).toEqual(['WS_ERR_TOO_MANY_FRAGMENTS']);
  });
});

describe('impossible frame lengths', () => {
  it('closes with 1002 (WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH) for a header announcing 2^63 bytes', async () => {
    const harness = await startServer();
    const { peer, server } = await harness.open();
    peer.write(frame({ opcode: OP.BINARY, length: 2n ** 63n }));
    expect((await closedByServer(peer)).code).toBe(1002);
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.errors.map((error) => [error.code, error.closeCode])).toEqual([
      ['WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1002],
    ]);
    expect(server.closes[0]!.code).toBe(1002);
    await harness.echoWorks();
  });

  it('closes with 1009 for a header announcing 2^63 - 1 bytes (over the default maxPayload)', async () => {
    const harness = await startServer();
    const { peer, server } = await harness.open();
    peer.write(frame({ opcode: OP.TEXT, length: 2n ** 63n - 1n }));
    expect((await closedByServer(peer)).code).toBe(1009);
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.errors.map((error) => error.code)).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });
});

describe('frames the RFC forbids', () => {
  // Every violation closes with the close code docs/errors.md gives, and 'error' carries the code.
  it.each([
    {
      what: 'an unmasked client frame',
      bytes: () => frame({ opcode: OP.TEXT, payload: 'hi', mask: false }),
      close: 1002,
      code: 'WS_ERR_EXPECTED_MASK',
    },
    {
      what: 'a reserved opcode (3)',
      bytes: () => frame({ opcode: 3 }),
      close: 1002,
      code: 'WS_ERR_INVALID_OPCODE',
    },
    {
      what: 'a reserved control opcode (0xB)',
      bytes: () => frame({ opcode: 0xb }),
      close: 1002,
      code: 'WS_ERR_INVALID_OPCODE',
    },
    {
      what: 'RSV1 without an extension',
      bytes: () => frame({ opcode: OP.TEXT, payload: 'x', rsv: 0x40 }),
      close: 1002,
      code: 'WS_ERR_UNEXPECTED_RSV_1',
    },
    {
      what: 'RSV2',
      bytes: () => frame({ opcode: OP.TEXT, payload: 'x', rsv: 0x20 }),
      close: 1002,
      code: 'WS_ERR_UNEXPECTED_RSV_2_3',
    },
    {
      what: 'a fragmented ping',
      bytes: () => frame({ opcode: OP.PING, fin: false }),
      close: 1002,
      code: 'WS_ERR_EXPECTED_FIN',
    },
    {
      what: 'a 126-byte ping',
      bytes: () => frame({ opcode: OP.PING, payload: Buffer.alloc(126) }),
      close: 1002,
      code: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
    },
    {
      what: 'a continuation with no message',
      bytes: () => frame({ opcode: OP.CONTINUATION, payload: 'x' }),
      close: 1002,
      code: 'WS_ERR_UNEXPECTED_CONTINUATION',
    },
    {
      what: 'a new message inside a fragmented one',
      bytes: () =>
        Buffer.concat([
          frame({ opcode: OP.TEXT, payload: 'a', fin: false }),
          frame({ opcode: OP.TEXT, payload: 'b' }),
        ]),
      close: 1002,
      code: 'WS_ERR_EXPECTED_CONTINUATION',
    },
    {
      what: 'invalid UTF-8 in a text message',
      bytes: () => frame({ opcode: OP.TEXT, payload: Buffer.from([0x61, 0xc3, 0x28]) }),
      close: 1007,
      code: 'WS_ERR_INVALID_UTF8',
    },
    {
      what: 'a close frame with code 1005',
      bytes: () => frame({ opcode: OP.CLOSE, payload: closePayload(1005) }),
      close: 1002,
      code: 'WS_ERR_INVALID_CLOSE_CODE',
    },
    {
      what: 'a close frame with a 1-byte payload',
      bytes: () => frame({ opcode: OP.CLOSE, payload: Buffer.from([3]) }),
      close: 1002,
      code: expect.stringMatching(/^WS_ERR_/),
    },
  ])('closes with $close for $what', async ({ bytes, close, code }) => {
    const harness = await startServer();
    const { peer, server } = await harness.open();
    peer.write(bytes());
    expect((await closedByServer(peer)).code).toBe(close);
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.messages).toEqual([]);
    expect(server.errors).toHaveLength(1);
    expect(server.errors[0]!.code).toEqual(code);
    expect(server.errors[0]!.closeCode).toBe(close);
    expect(server.closes[0]!.code).toBe(close);
    // Our close frame is a proper server frame: unmasked, FIN, no RSV bits.
    const ours = peer.reader.frames.find((f) => f.opcode === OP.CLOSE)!;
    expect(ours).toMatchObject({ fin: true, rsv: 0, masked: false });
  });

  it('does not crash the process on protocol errors when nobody listens for errors on the sockets', async () => {
    const harness = await startServer({ maxPayload: 1024 }, { listenForErrors: false });
    const violations = [
      frame({ opcode: OP.TEXT, payload: 'hi', mask: false }),
      frame({ opcode: 3 }),
      frame({ opcode: OP.TEXT, payload: Buffer.from([0xff]) }),
      frame({ opcode: OP.BINARY, length: 2n ** 63n }),
      frame({ opcode: OP.BINARY, length: 2048n }),
    ];
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      for (const bytes of violations) {
        const { peer, server } = await harness.open();
        expect(server.ws.listenerCount('error')).toBe(0);
        peer.write(bytes);
        const close = await closedByServer(peer);
        expect([1002, 1007, 1009]).toContain(close.code);
        await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
        expect(server.closes[0]!.code).toBe(close.code);
      }
      await harness.echoWorks();
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });
});

describe('garbage instead of a handshake', () => {
  it.each([
    {
      what: 'random binary ending in a blank line',
      bytes: () => Buffer.concat([randomBytes(512), Buffer.from('\r\n\r\n')]),
    },
    { what: 'a request line that is not HTTP', bytes: () => Buffer.from('HELLO THERE\r\n\r\n') },
    { what: 'a GET without upgrade headers', bytes: () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') },
    {
      what: 'a header line without a colon',
      bytes: () => Buffer.from(upgradeRequest('/', 'dGhlIHNhbXBsZSBub25jZQ==', ['no colon here'])),
    },
  ])('answers 400 to $what and closes, and keeps serving', async ({ bytes }) => {
    const harness = await startServer({ handshakeTimeout: 2000 });
    const peer = harness.peer();
    peer.write(bytes());
    await peer.closed_();
    expect(peer.status).toBe(400);
    expect(harness.accepted).toEqual([]);
    expect(harness.clientErrors.map((error) => error.code)).toEqual(['WS_ERR_INVALID_HANDSHAKE']);
    await harness.echoWorks();
  });

  it.each([
    {
      what: 'random binary',
      bytes: () => Buffer.from(randomBytes(700).map((byte) => (byte === 0x0d ? 0x0e : byte))),
    },
    {
      what: 'a TLS ClientHello',
      bytes: () =>
        Buffer.concat([
          Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]),
          randomBytes(160),
        ]),
    },
  ])(
    'answers $what with 400 or a closed socket within handshakeTimeout, and keeps serving',
    async ({ bytes }) => {
      const harness = await startServer({ handshakeTimeout: 500 });
      const peer = harness.peer();
      peer.write(bytes());
      await peer.closed_();
      expect([undefined, 400]).toContain(peer.status);
      expect(peer.reader.frames).toEqual([]);
      expect(harness.accepted).toEqual([]);
      expect(harness.clientErrors).toHaveLength(1);
      await harness.echoWorks();
    },
  );

  it('answers 426 with Sec-WebSocket-Version: 13 to another protocol version', async () => {
    const harness = await startServer();
    const peer = harness.peer();
    peer.write(upgradeRequest('/', 'dGhlIHNhbXBsZSBub25jZQ==').replace('Version: 13', 'Version: 8'));
    await peer.closed_();
    expect(peer.status).toBe(426);
    expect(peer.head.toString('latin1')).toMatch(/\r\nSec-WebSocket-Version: 13\r\n/i);
    expect(harness.clientErrors.map((error) => error.code)).toEqual(['WS_ERR_UNSUPPORTED_VERSION']);
  });
});

describe('slow and oversized handshakes', () => {
  it('closes a handshake sent one byte every 200 ms once handshakeTimeout (500 ms) passes', async () => {
    const harness = await startServer({ handshakeTimeout: 500 });
    const peer = harness.peer();
    const request = Buffer.from(upgradeRequest('/', randomBytes(16).toString('base64')));
    const started = Date.now();
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < request.length && !peer.closed) peer.write(request.subarray(sent, ++sent));
    }, 200);
    try {
      await waitFor(() => peer.closed, WAIT_MS, 'the server to drop the slow handshake');
    } finally {
      clearInterval(drip);
    }
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(400); // not before the timeout (timer slack allowed)
    expect(sent).toBeLessThan(request.length); // long before the request could have finished
    expect(peer.status).not.toBe(101);
    expect(harness.accepted).toEqual([]);
    expect(harness.clientErrors.map((error) => error.code)).toEqual(['WS_ERR_HANDSHAKE_TIMEOUT']);
    await harness.echoWorks();
  });

  it('times out silent handshakes one by one in the order they started, sparing those that completed', async () => {
    const harness = await startServer({ handshakeTimeout: 600 });
    const closedAt: string[] = [];
    const first = harness.peer();
    void first.closed_().then(() => closedAt.push('first'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    // A handshake that completes between the two silent ones: the shared deadline timer must not touch it.
    const { peer: completed } = await harness.open();
    const second = harness.peer();
    void second.closed_().then(() => closedAt.push('second'));
    await waitFor(() => closedAt.length === 2, WAIT_MS, 'both silent handshakes to time out');
    expect(closedAt).toEqual(['first', 'second']);
    expect(first.head.length).toBe(0);
    expect(second.head.length).toBe(0);
    expect(completed.closed).toBe(false);
    expect(harness.clientErrors.map((error) => error.code)).toEqual([
      'WS_ERR_HANDSHAKE_TIMEOUT',
      'WS_ERR_HANDSHAKE_TIMEOUT',
    ]);
    await harness.echoWorks();
  });

  it('closes a connection that sends nothing within handshakeTimeout', async () => {
    const harness = await startServer({ handshakeTimeout: 300 });
    const peer = harness.peer();
    await peer.closed_();
    expect(peer.head.length).toBe(0);
    expect(harness.clientErrors.map((error) => error.code)).toEqual(['WS_ERR_HANDSHAKE_TIMEOUT']);
  });

  it('answers 431 to a complete request head larger than maxHeaderSize', async () => {
    const harness = await startServer({ maxHeaderSize: 1024 });
    const peer = harness.peer();
    peer.write(upgradeRequest('/', randomBytes(16).toString('base64'), [`X-Padding: ${'p'.repeat(2048)}`]));
    await peer.closed_();
    expect(peer.status).toBe(431);
    expect(harness.accepted).toEqual([]);
    expect(harness.clientErrors.map((error) => error.code)).toEqual(['WS_ERR_HEADER_TOO_LARGE']);
    await harness.echoWorks();
  });

  it('answers 431 to a head that grows past maxHeaderSize without ending', async () => {
    const harness = await startServer({ maxHeaderSize: 1024, handshakeTimeout: 10_000 });
    const peer = harness.peer();
    peer.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    for (let i = 0; i < 40; i++) peer.write(`X-Header-${i}: ${'v'.repeat(60)}\r\n`); // ~3 KB, no blank line
    await peer.closed_();
    expect(peer.status).toBe(431);
    expect(harness.clientErrors.map((error) => error.code)).toEqual(['WS_ERR_HEADER_TOO_LARGE']);
  });

  it('accepts a head just under maxHeaderSize', async () => {
    const harness = await startServer({ maxHeaderSize: 1024 });
    const peer = harness.peer();
    const base = upgradeRequest('/', randomBytes(16).toString('base64'), ['X-Padding: ']);
    const request = upgradeRequest('/', randomBytes(16).toString('base64'), [
      `X-Padding: ${'p'.repeat(1024 - base.length)}`,
    ]);
    expect(request.length).toBe(1024);
    peer.write(request);
    await waitFor(() => peer.headDone || peer.closed, WAIT_MS, 'the answer');
    expect(peer.status).toBe(101);
    await waitFor(() => harness.accepted.length === 1, WAIT_MS, "'connection'");
  });
});

describe('a peer that vanishes mid-message', () => {
  it.each([
    { how: 'closes its socket (FIN)', drop: (socket: net.Socket) => socket.destroy() },
    { how: 'resets its socket (RST)', drop: (socket: net.Socket) => socket.resetAndDestroy() },
  ])("gives the server-side socket 'close' 1006 and no 'error' when the peer $how", async ({ drop }) => {
    const harness = await startServer();
    const { peer, server } = await harness.open();
    const whole = frame({ opcode: OP.BINARY, payload: randomBytes(100_000) });
    peer.write(whole.subarray(0, 50_000));
    await new Promise<void>((resolve) => peer.socket.write(Buffer.alloc(0), () => resolve()));
    drop(peer.socket);
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.closes).toEqual([{ code: 1006, reason: '' }]);
    expect(server.messages).toEqual([]);
    expect(server.errors).toEqual([]);
    expect(server.ws.readyState).toBe(server.ws.CLOSED);
    expect(harness.wss.clients.size).toBe(0);
    await waitFor(() => liveWebSockets() === 0, WAIT_MS, 'the native connection freed');
  });

  it("gives 'close' 1006 when the peer vanishes between the fragments of a message", async () => {
    const harness = await startServer();
    const { peer, server } = await harness.open();
    peer.write(frame({ opcode: OP.TEXT, payload: 'first part ', fin: false }));
    peer.write(frame({ opcode: OP.CONTINUATION, payload: 'second' }).subarray(0, 5));
    await new Promise<void>((resolve) => peer.socket.write(Buffer.alloc(0), () => resolve()));
    peer.socket.destroy();
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.closes).toEqual([{ code: 1006, reason: '' }]);
    expect(server.messages).toEqual([]);
  });

  it('frees everything when the peer vanishes during the handshake', async () => {
    const harness = await startServer();
    const peer = harness.peer();
    await waitFor(() => peer.connected, WAIT_MS, 'connect');
    peer.write(upgradeRequest('/', randomBytes(16).toString('base64')).slice(0, 40));
    await new Promise<void>((resolve) => peer.socket.write(Buffer.alloc(0), () => resolve()));
    peer.socket.destroy();
    await waitFor(
      () => EventBase.default().stats().liveBufferevents === 0,
      WAIT_MS,
      'the handshake bufferevent freed',
    );
    expect(harness.accepted).toEqual([]);
  });
});

describe('a peer that stops reading', () => {
  it(
    "makes send answer 'backpressure', then 'dropped' past maxBufferedBytes, and still closes cleanly",
    { timeout: 120_000 },
    async () => {
      const backpressureBytes = 256 * 1024;
      const maxBufferedBytes = 1024 * 1024;
      const harness = await startServer({ backpressureBytes, maxBufferedBytes }, { echo: false });
      const peer = harness.peer(false); // count frames, do not keep 100s of MB of payloads
      await peer.handshake();
      await waitFor(() => harness.accepted.length === 1, WAIT_MS, "'connection'");
      const server = harness.accepted[0]!;
      peer.socket.pause(); // the kernel buffers fill, then our queue does

      const chunk = randomBytes(64 * 1024);
      const results: string[] = [];
      const amounts: number[] = [];
      // Loop turns between batches let the kernel take what it will; bounded so a broken limit ends the test.
      for (let batch = 0; batch < 2000 && !results.includes('dropped'); batch++) {
        for (let i = 0; i < 16 && !results.includes('dropped'); i++) {
          results.push(server.ws.send(chunk));
          amounts.push(server.ws.bufferedAmount);
        }
        await turns(1);
      }
      const firstBackpressure = results.indexOf('backpressure');
      const firstDropped = results.indexOf('dropped');
      expect(firstBackpressure).toBeGreaterThan(0);
      expect(firstDropped).toBeGreaterThan(firstBackpressure);
      expect(results.slice(0, firstBackpressure).every((result) => result === 'ok')).toBe(true);
      expect(amounts[firstBackpressure]!).toBeGreaterThan(backpressureBytes);
      // The queue grew, and never past maxBufferedBytes.
      expect(amounts[firstDropped]!).toBeGreaterThan(amounts[firstBackpressure]!);
      expect(amounts[firstDropped]! + chunk.length).toBeGreaterThan(maxBufferedBytes);
      expect(Math.max(...amounts)).toBeLessThanOrEqual(maxBufferedBytes);

      // A dropped send reports WS_ERR_BUFFER_FULL to its callback.
      const callbackErrors: Array<(Error & { code?: string }) | undefined> = [];
      expect(server.ws.send(chunk, (error) => callbackErrors.push(error))).toBe('dropped');
      await waitFor(() => callbackErrors.length === 1, WAIT_MS, 'the callback of the dropped send');
      expect(callbackErrors[0]?.code).toBe('WS_ERR_BUFFER_FULL');

      const sentMessages = results.filter((result) => result !== 'dropped').length;
      let drains = 0;
      server.ws.on('drain', () => drains++);
      server.ws.close(1000, 'done');
      peer.socket.resume();

      // Every accepted message arrives whole, then the close frame; we answer it and the server closes.
      await waitFor(
        () => peer.reader.closeFrame() !== undefined,
        60_000,
        'the close frame after all the data',
      );
      const dataFrames = peer.reader.frames.filter((f) => f.opcode === OP.BINARY);
      expect(dataFrames).toHaveLength(sentMessages);
      expect(dataFrames.every((f) => f.fin && f.length === chunk.length)).toBe(true);
      expect(peer.reader.frames.at(-1)!.opcode).toBe(OP.CLOSE);
      expect(peer.reader.closeFrame()).toEqual({ code: 1000, reason: 'done' });
      peer.write(frame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
      await peer.closed_();
      await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
      expect(server.closes).toEqual([{ code: 1000, reason: expect.any(String) }]);
      expect(drains).toBeGreaterThanOrEqual(1);
      expect(server.errors).toEqual([]);
    },
  );

  it("frees a connection with a full send queue when the peer resets it: 'close' 1006, nothing leaks", async () => {
    const harness = await startServer({ maxBufferedBytes: 1024 * 1024 }, { echo: false });
    const { peer, server } = await harness.open();
    peer.socket.pause();
    const chunk = Buffer.alloc(64 * 1024, 7);
    for (let batch = 0; batch < 2000 && server.ws.bufferedAmount < 512 * 1024; batch++) {
      for (let i = 0; i < 16; i++) server.ws.send(chunk);
      await turns(1);
    }
    expect(server.ws.bufferedAmount).toBeGreaterThanOrEqual(512 * 1024);
    peer.socket.resetAndDestroy();
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.closes).toEqual([{ code: 1006, reason: '' }]);
    expect(server.ws.bufferedAmount).toBe(0);
    expect(server.ws.send('after')).toBe('dropped');
    await waitFor(() => liveWebSockets() === 0, WAIT_MS, 'the native connection freed');
  });
});

describe('a peer that never answers our close frame', () => {
  it("drops TCP closeTimeout after the server's close frame, with 'close' 1006", async () => {
    const harness = await startServer({ closeTimeout: 300 });
    const { peer, server } = await harness.open();
    server.ws.close(1000, 'bye');
    await waitFor(() => peer.reader.closeFrame() !== undefined, WAIT_MS, 'our close frame');
    expect(peer.reader.closeFrame()).toEqual({ code: 1000, reason: 'bye' });
    // The peer stays silent: no close frame back, no FIN.
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.closes[0]!.code).toBe(1006);
    await peer.closed_();
    expect(server.errors).toEqual([]);
  });
});
