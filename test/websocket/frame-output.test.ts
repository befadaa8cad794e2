// The frames the production path writes, byte for byte: a WebSocketServer and a WebSocket client
// each talk to a raw TCP peer (node:net, handshake done by hand) that captures the bytes and decodes
// them here, straight from RFC 6455 §5.2, without the library's codec. Server frames must never be
// masked; client frames must be masked, each with its own key.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';

checkNothingLeaksAfterEach({ fds: true });

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const SIZES = [0, 1, 125, 126, 127, 65_535, 65_536, 1024 * 1024];
const OP = { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8 } as const;

interface WireFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  key: Buffer | undefined;
  payload: Buffer; // unmasked
  raw: Buffer; // the frame exactly as captured
}

/** Whole frames at the start of `bytes` (a trailing partial frame is left out). */
function decodeFrames(bytes: Buffer): WireFrame[] {
  const frames: WireFrame[] = [];
  let at = 0;
  for (;;) {
    if (bytes.length - at < 2) return frames;
    const masked = (bytes[at + 1]! & 0x80) !== 0;
    let length = bytes[at + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      if (bytes.length - at < 4) return frames;
      length = bytes.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      if (bytes.length - at < 10) return frames;
      length = Number(bytes.readBigUInt64BE(at + 2));
      header = 10;
    }
    const key = masked ? Buffer.from(bytes.subarray(at + header, at + header + 4)) : undefined;
    if (masked) header += 4;
    if (bytes.length - at < header + length) return frames;
    const payload = Buffer.from(bytes.subarray(at + header, at + header + length));
    if (key) for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i % 4]!;
    frames.push({
      fin: (bytes[at]! & 0x80) !== 0,
      rsv: (bytes[at]! >> 4) & 0x7,
      opcode: bytes[at]! & 0x0f,
      key,
      payload,
      raw: Buffer.from(bytes.subarray(at, at + header + length)),
    });
    at += header + length;
  }
}

/** The one correct encoding of a frame (§5.2: the shortest length form), masked with `key` if given. */
function encodeFrame(opcode: number, fin: boolean, payload: Buffer, key?: Buffer): Buffer {
  const first = (fin ? 0x80 : 0) | opcode;
  const maskBit = key ? 0x80 : 0;
  let header: Buffer;
  if (payload.length <= 125) {
    header = Buffer.from([first, maskBit | payload.length]);
  } else if (payload.length <= 0xffff) {
    header = Buffer.from([first, maskBit | 126, payload.length >> 8, payload.length & 0xff]);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  if (!key) return Buffer.concat([header, payload]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ key[i % 4]!));
  return Buffer.concat([header, key, masked]);
}

/** A raw TCP endpoint after its handshake: everything the library sends is captured here. */
class RawPeer {
  readonly socket: net.Socket;
  #chunks: Buffer[] = [];
  #ended = false;

  constructor(socket: net.Socket, alreadyReceived: Buffer) {
    this.socket = socket;
    if (alreadyReceived.length > 0) this.#chunks.push(alreadyReceived);
    socket.on('data', (chunk: Buffer) => this.#chunks.push(chunk));
    socket.on('close', () => (this.#ended = true));
  }

  get closed(): boolean {
    return this.#ended;
  }

  frames(): WireFrame[] {
    this.#chunks = [Buffer.concat(this.#chunks)];
    return decodeFrames(this.#chunks[0]!);
  }

  async waitForFrames(count: number): Promise<WireFrame[]> {
    await waitFor(() => this.frames().length >= count, 20_000, `${count} frames`);
    return this.frames();
  }
}

/** Reads an HTTP head from `socket`; resolves with the head and the bytes after it. */
function readHead(socket: net.Socket): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('error', reject);
      resolve({ head: received.subarray(0, end).toString('latin1'), rest: received.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

const acceptFor = (key: string) =>
  createHash('sha1')
    .update(key + GUID)
    .digest('base64');

let cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
  await turns(3);
});

/** A WebSocketServer and a raw client connected to it: [server side WebSocket, raw peer]. */
async function serverWithRawClient(): Promise<[WebSocket, RawPeer]> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => server.close());
  await new Promise((resolve) => server.once('listening', resolve));
  const connected = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const socket = net.connect((server.address() as { port: number }).port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const { head, rest } = await readHead(socket);
  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  expect(head).toContain(`Sec-WebSocket-Accept: ${acceptFor(key)}`);
  return [await connected, new RawPeer(socket, rest)];
}

/** A raw server and a WebSocket client connected to it: [client WebSocket, raw peer]. */
async function clientWithRawServer(): Promise<[WebSocket, RawPeer]> {
  const peers: Promise<RawPeer>[] = [];
  const server = net.createServer((socket) => {
    cleanups.push(() => socket.destroy());
    peers.push(
      readHead(socket).then(({ head, rest }) => {
        const key = /^Sec-WebSocket-Key: *(\S+)/im.exec(head)?.[1] ?? '';
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
        );
        return new RawPeer(socket, rest);
      }),
    );
  });
  cleanups.push(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`);
  await new Promise((resolve) => client.once('open', resolve));
  expect(peers).toHaveLength(1);
  return [client, await peers[0]!];
}

/** What each send should put on the wire: opcode, FIN and payload, one frame per send. */
interface Sent {
  opcode: number;
  fin: boolean;
  payload: Buffer;
}

function sendAll(ws: WebSocket, sends: Sent[]): void {
  for (const { opcode, fin, payload } of sends) {
    const data = opcode === OP.TEXT ? payload.toString('latin1') : payload;
    expect(ws.send(data, { fin, binary: opcode !== OP.TEXT })).not.toBe('dropped');
  }
}

/** Every byte of every frame is what §5.2 prescribes; returns the client's masking keys. */
function checkFrames(frames: WireFrame[], sends: Sent[], masked: boolean): Buffer[] {
  expect(frames).toHaveLength(sends.length);
  const keys: Buffer[] = [];
  frames.forEach((frame, i) => {
    const { opcode, fin, payload } = sends[i]!;
    const what = `frame ${i} (${payload.length} bytes)`;
    expect(
      { opcode: frame.opcode, fin: frame.fin, rsv: frame.rsv, masked: frame.key !== undefined },
      what,
    ).toEqual({ opcode, fin, rsv: 0, masked });
    expect(frame.payload.equals(payload), `${what}: payload`).toBe(true);
    expect(frame.raw.equals(encodeFrame(opcode, fin, payload, frame.key)), `${what}: every byte`).toBe(true);
    if (frame.key) keys.push(frame.key);
  });
  return keys;
}

/** One binary message of each size, and text messages at the length-encoding edges. */
function messagesOfEverySize(): Sent[] {
  const sends: Sent[] = SIZES.map((size) => ({ opcode: OP.BINARY, fin: true, payload: randomBytes(size) }));
  for (const size of [0, 125, 126, 65_536]) {
    sends.push({ opcode: OP.TEXT, fin: true, payload: Buffer.alloc(size, 'txt') });
  }
  return sends;
}

/** A fragmented message: first frame with the message's opcode, then continuations, the last with FIN. */
function fragmentedMessage(opcode: number, sizes: number[]): Sent[] {
  return sizes.map((size, i) => ({
    opcode: i === 0 ? opcode : OP.CONTINUATION,
    fin: i === sizes.length - 1,
    payload: opcode === OP.TEXT ? Buffer.alloc(size, 'frag') : randomBytes(size),
  }));
}

const FRAGMENTED: Sent[] = [
  ...fragmentedMessage(OP.BINARY, [0, 1, 125, 126, 65_536, 0]),
  ...fragmentedMessage(OP.TEXT, [3, 65_535, 127]),
];

/** A close frame from the raw peer, 1000 with no reason; masked when the peer is a client. */
function closeFrameFromPeer(asClient: boolean): Buffer {
  return encodeFrame(OP.CLOSE, true, Buffer.from([0x03, 0xe8]), asClient ? randomBytes(4) : undefined);
}

/** The raw client closes: the server answers with an unmasked close frame and ends TCP. */
async function closeFromRawClient(peer: RawPeer, framesBefore: number): Promise<void> {
  peer.socket.write(closeFrameFromPeer(true));
  await waitFor(() => peer.closed, 10_000, 'the server to close TCP');
  const closing = peer.frames().slice(framesBefore);
  expect(closing.map((frame) => [frame.opcode, frame.key, frame.payload.toString('hex')])).toEqual([
    [OP.CLOSE, undefined, '03e8'],
  ]);
}

/** The raw server closes: the client answers with a masked close frame, whose key is returned. */
async function closeFromRawServer(client: WebSocket, peer: RawPeer, framesBefore: number): Promise<Buffer> {
  const closed = new Promise<number>((resolve) => client.once('close', resolve));
  peer.socket.write(closeFrameFromPeer(false));
  const closing = (await peer.waitForFrames(framesBefore + 1)).slice(framesBefore);
  expect(closing.map((frame) => [frame.opcode, frame.payload.toString('hex')])).toEqual([[OP.CLOSE, '03e8']]);
  peer.socket.end();
  expect(await closed).toBe(1000);
  expect(closing[0]!.key).toBeDefined();
  return closing[0]!.key!;
}

const distinct = (keys: Buffer[]) => new Set(keys.map((key) => key.toString('hex'))).size;

describe('a server writes unmasked frames with the shortest length encoding', () => {
  it('for messages of 0, 1, 125, 126, 127, 65535, 65536 bytes and 1 MiB, every byte checked', async () => {
    const [ws, peer] = await serverWithRawClient();
    const sends = messagesOfEverySize();
    sendAll(ws, sends);
    expect(checkFrames(await peer.waitForFrames(sends.length), sends, false)).toEqual([]);
    await closeFromRawClient(peer, sends.length);
  });

  it('for fragmented sends (fin: false), one frame per send, FIN only on the last', async () => {
    const [ws, peer] = await serverWithRawClient();
    sendAll(ws, FRAGMENTED);
    expect(checkFrames(await peer.waitForFrames(FRAGMENTED.length), FRAGMENTED, false)).toEqual([]);
    await closeFromRawClient(peer, FRAGMENTED.length);
  });
});

describe('a client masks every frame with a fresh key', () => {
  it('for messages of 0, 1, 125, 126, 127, 65535, 65536 bytes and 1 MiB, every byte checked', async () => {
    const [client, peer] = await clientWithRawServer();
    const sends = messagesOfEverySize();
    sendAll(client, sends);
    const keys = checkFrames(await peer.waitForFrames(sends.length), sends, true);
    keys.push(await closeFromRawServer(client, peer, sends.length));
    expect(keys).toHaveLength(sends.length + 1);
    expect(distinct(keys)).toBe(keys.length);
  });

  it('for fragmented sends (fin: false), each fragment with its own key', async () => {
    const [client, peer] = await clientWithRawServer();
    sendAll(client, FRAGMENTED);
    const keys = checkFrames(await peer.waitForFrames(FRAGMENTED.length), FRAGMENTED, true);
    keys.push(await closeFromRawServer(client, peer, FRAGMENTED.length));
    expect(keys).toHaveLength(FRAGMENTED.length + 1);
    expect(distinct(keys)).toBe(keys.length);
  });
});
