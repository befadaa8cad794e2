// The lingering close: the side that closes TCP sends its close frame (or its HTTP refusal), shuts
// its write side down once that left, then reads and discards until the peer's FIN or closeTimeout.
// Closing with unread input would make the kernel send a reset, and the peer's kernel would drop
// the close frame or the answer it had not read yet. Raw node:net peers that keep sending while we
// close check that they always read everything and then a FIN, never ECONNRESET.
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type WebSocketServerOptions } from '../../src/websocket/index.ts';
import { EventBase } from '../../src/index.ts';
import { native } from '../../src/native.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';
import {
  acceptFor,
  buildFrame,
  frames,
  handshakeRequest,
  parseServerFrames,
  RawClient,
} from './conformance/raw-client.ts';

const WAIT_MS = 20_000;

checkNothingLeaksAfterEach({ fds: true });

function liveWebSockets(): number {
  return EventBase.default().stats().liveWebSockets;
}

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  await waitFor(() => liveWebSockets() === 0, WAIT_MS, 'no live native WebSocket connection');
  await waitFor(() => EventBase.default().stats().liveBufferevents === 0, WAIT_MS, 'no live bufferevent');
  await turns(3);
});

interface ServerRecord {
  wss: WebSocketServer;
  port: number;
  errors: string[];
  closes: Array<{ code: number; reason: string }>;
  clientErrors: string[];
}

async function startServer(options: Partial<WebSocketServerOptions> = {}): Promise<ServerRecord> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  const record: ServerRecord = { wss, port: 0, errors: [], closes: [], clientErrors: [] };
  wss.on('wsClientError', (error: Error & { code?: string }) => record.clientErrors.push(error.code ?? '?'));
  wss.on('connection', (ws) => {
    ws.on('error', (error: Error & { code?: string }) => record.errors.push(error.code ?? '?'));
    ws.on('close', (code: number, reason: Buffer) => record.closes.push({ code, reason: reason.toString() }));
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  await once(wss, 'listening');
  record.port = (wss.address() as { port: number }).port;
  cleanups.push(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  return record;
}

/**
 * A raw peer that can keep writing while it reads: `flood` writes `chunk` as fast as the kernel
 * takes it until the peer's FIN arrives (then it stops and, unless `halfOpen`, ends its side).
 */
class FloodingPeer {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  fin = false;
  closed = false;
  error: string | undefined;
  bytesSent = 0;
  #flooding = false;

  constructor(port: number, { halfOpen = false } = {}) {
    this.socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    this.socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    this.socket.on('end', () => {
      this.fin = true;
      this.#flooding = false;
      if (!halfOpen) this.socket.end();
    });
    this.socket.on(
      'error',
      (error: Error & { code?: string }) => (this.error ??= error.code ?? error.message),
    );
    this.socket.on('close', () => (this.closed = true));
    cleanups.push(() => void this.socket.destroy());
  }

  write(bytes: Buffer | string): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  flood(chunk: Buffer): void {
    this.#flooding = true;
    const pump = () => {
      while (this.#flooding && !this.socket.destroyed && this.socket.writable) {
        this.bytesSent += chunk.length;
        if (!this.socket.write(chunk)) return;
      }
    };
    this.socket.on('drain', pump);
    pump();
  }

  stopFlooding(): void {
    this.#flooding = false;
  }

  /** Sends a valid upgrade request and waits for the 101; `received` then holds only frames. */
  async handshake(): Promise<void> {
    const { text, key } = handshakeRequest();
    this.write(text);
    await waitFor(() => this.received.includes('\r\n\r\n') || this.closed, WAIT_MS, 'the 101');
    const end = this.received.indexOf('\r\n\r\n');
    const head = this.received.subarray(0, end).toString('latin1');
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(head).toContain(`Sec-WebSocket-Accept: ${acceptFor(key)}`);
    this.received = this.received.subarray(end + 4);
  }
}

/** A complete HTTP response at the start of `bytes` (head and Content-Length body), or null. */
function completeResponse(bytes: Buffer): { status: number; body: string } | null {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = bytes.subarray(0, end).toString('latin1');
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
  if (bytes.length < end + 4 + length) return null;
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
    body: bytes.subarray(end + 4, end + 4 + length).toString(),
  };
}

describe('the server fails a connection while the peer is still sending', () => {
  it(
    'a 4 MiB message over maxPayload: the peer always reads the whole close frame 1009 and a FIN, never a reset (20 runs)',
    { timeout: 120_000 },
    async () => {
      const server = await startServer({ maxPayload: 64 * 1024 });
      const chunk = Buffer.alloc(64 * 1024, 0x5a);
      for (let run = 0; run < 20; run++) {
        const peer = new FloodingPeer(server.port);
        await peer.handshake();
        // The header announces 4 MiB: the server refuses it at once, while the payload keeps coming.
        peer.write(buildFrame({ opcode: 2, length: 4 * 1024 * 1024 }));
        peer.flood(chunk);
        await waitFor(() => peer.closed, WAIT_MS, `run ${run}: the connection to end`);
        expect(peer.error, `run ${run}: socket error`).toBeUndefined();
        expect(peer.fin, `run ${run}: FIN`).toBe(true);
        const received = parseServerFrames(peer.received);
        expect(
          received.map((frame) => frame.opcode),
          `run ${run}: frames`,
        ).toEqual([8]);
        expect(received[0]!.payload.readUInt16BE(0)).toBe(1009);
        await waitFor(() => server.closes.length === run + 1, WAIT_MS, "the server's 'close'");
      }
      expect(server.closes.every((close) => close.code === 1009)).toBe(true);
      expect(server.errors).toEqual(Array(20).fill('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'));
    },
  );

  it(
    'a text then a reserved opcode in 1-byte writes: the echo, then close 1002, then a FIN, every time (30 runs)',
    { timeout: 120_000 },
    async () => {
      const server = await startServer();
      for (let run = 0; run < 30; run++) {
        const client = await RawClient.open(server.port);
        cleanups.push(() => client.destroy());
        await client.send(
          Buffer.concat([frames.text('Hello'), buildFrame({ opcode: 5, payload: 'xx' })]),
          'bytewise',
        );
        const echo = await client.readMessage();
        expect([echo.opcode, echo.data.toString()], `run ${run}`).toEqual([1, 'Hello']);
        const close = await client.readMessage();
        expect([close.opcode, close.data.readUInt16BE(0)], `run ${run}`).toEqual([8, 1002]);
        expect(await client.waitForTcpClose(), `run ${run}`).toBe('fin');
        expect(client.error, `run ${run}`).toBeUndefined();
      }
      await waitFor(() => server.closes.length === 30, WAIT_MS, "every server-side 'close'");
      expect(server.errors).toEqual(Array(30).fill('WS_ERR_INVALID_OPCODE'));
    },
  );

  it('keeps reading while lingering even when the socket was paused, and discards what it reads', async () => {
    const server = await startServer({ closeTimeout: 60_000 });
    server.wss.once('connection', (ws) => ws.on('error', () => ws.pause()));
    const peer = new FloodingPeer(server.port, { halfOpen: true });
    await peer.handshake();
    peer.write(buildFrame({ opcode: 5 }));
    await waitFor(() => peer.fin, WAIT_MS, "the server's close frame and FIN");
    expect(parseServerFrames(peer.received).map((frame) => frame.opcode)).toEqual([8]);
    // 64 MiB only get through if the server keeps reading: kernel buffers hold a few MiB at most.
    const rssBefore = process.memoryUsage().rss;
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 1);
    for (let sent = 0; sent < total; sent += chunk.length) {
      if (!peer.socket.write(chunk)) await once(peer.socket, 'drain');
    }
    await new Promise<void>((resolve) => peer.socket.end(() => resolve()));
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close' at the peer's FIN");
    expect(server.closes).toEqual([{ code: 1002, reason: '' }]);
    expect(peer.error).toBeUndefined();
    // Discarded as it arrives: far less than the 64 MiB read stays in memory (generous bound). The
    // AddressSanitizer build keeps freed memory in its quarantine (256 MiB), so there RSS grows
    // with everything read and freed, and only the release build can show the bound.
    const growth = process.memoryUsage().rss - rssBefore;
    expect(growth).toBeLessThan(native.sanitizerBuild ? 320 * 1024 * 1024 : 32 * 1024 * 1024);
  });

  it('sends the queued frames before closing when the peer half-closes first', async () => {
    const server = await startServer();
    let serverSide: WebSocket | undefined;
    server.wss.once('connection', (ws) => (serverSide = ws));
    const peer = new FloodingPeer(server.port, { halfOpen: true });
    await peer.handshake();
    await waitFor(() => serverSide !== undefined, WAIT_MS, "'connection'");
    peer.socket.pause(); // not reading: the server's frames queue up on its side
    const payload = Buffer.alloc(1024 * 1024, 7);
    for (let i = 0; i < 16; i++) serverSide!.send(payload);
    serverSide!.close(4001, 'queued');
    expect(serverSide!.bufferedAmount).toBeGreaterThan(0);
    peer.socket.end(); // FIN while 16 MiB and the close frame are still queued
    await turns(10);
    peer.socket.resume();
    await waitFor(() => peer.closed, WAIT_MS, 'the connection to end');
    expect(peer.error).toBeUndefined();
    const received = parseServerFrames(peer.received);
    expect(received.map((frame) => frame.opcode)).toEqual([...Array(16).fill(2), 8]);
    expect(received.at(-1)!.payload.subarray(2).toString()).toBe('queued');
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.closes).toEqual([{ code: 1006, reason: '' }]);
  });
});

describe('a peer that never sends its FIN', () => {
  it('is dropped closeTimeout after a protocol error (not before), with nothing left behind', async () => {
    const closeTimeout = 400;
    const server = await startServer({ closeTimeout });
    const peer = new FloodingPeer(server.port, { halfOpen: true });
    await peer.handshake();
    const failedAt = Date.now();
    peer.write(buildFrame({ opcode: 5 }));
    await waitFor(() => peer.fin, WAIT_MS, "the server's close frame and FIN");
    expect(parseServerFrames(peer.received)[0]!.payload.readUInt16BE(0)).toBe(1002);
    expect(server.closes).toEqual([]); // lingering: still reading
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(closeTimeout * 0.75);
    expect(server.closes).toEqual([{ code: 1002, reason: '' }]);
    await waitFor(() => liveWebSockets() === 0, WAIT_MS, 'the native connection freed');
    // The socket is really gone: writing to it now meets a reset.
    peer.flood(Buffer.alloc(1024));
    await waitFor(() => peer.closed, WAIT_MS, 'the reset');
    expect(['ECONNRESET', 'EPIPE']).toContain(peer.error);
  });

  it('is dropped closeTimeout after a completed close handshake, reporting the peer’s code', async () => {
    const server = await startServer({ closeTimeout: 400 });
    const peer = new FloodingPeer(server.port, { halfOpen: true });
    await peer.handshake();
    peer.write(frames.close(4002, 'no fin'));
    await waitFor(() => peer.fin, WAIT_MS, "the server's close frame and FIN");
    await waitFor(() => server.closes.length === 1, WAIT_MS, "the server's 'close'");
    expect(server.closes).toEqual([{ code: 4002, reason: 'no fin' }]);
  });
});

describe('refused handshakes while the client keeps sending', () => {
  const garbage = Buffer.alloc(64 * 1024, 0x41);

  it.each([
    { what: 'a wrong path (400)', options: { path: '/ws' }, status: 400, code: 'WS_ERR_PATH' },
    {
      what: 'verifyClient (403)',
      options: { verifyClient: (_: unknown, done: (ok: boolean, code: number) => void) => done(false, 403) },
      status: 403,
      code: 'WS_ERR_VERIFY_CLIENT',
    },
    {
      what: 'a version other than 13 (426)',
      options: {},
      status: 426,
      code: 'WS_ERR_UNSUPPORTED_VERSION',
      version: '8',
    },
  ])(
    'native listener, $what: the client reads the whole answer and a FIN (10 runs)',
    async ({ options, status, code, version }) => {
      const server = await startServer(options as Partial<WebSocketServerOptions>);
      for (let run = 0; run < 10; run++) {
        const peer = new FloodingPeer(server.port);
        const request = handshakeRequest({
          path: '/other',
          headers: version ? { 'Sec-WebSocket-Version': version } : {},
        }).text;
        peer.write(request);
        peer.flood(garbage);
        await waitFor(() => peer.closed, WAIT_MS, `run ${run}: the connection to end`);
        expect(peer.error, `run ${run}`).toBeUndefined();
        expect(peer.fin, `run ${run}`).toBe(true);
        const response = completeResponse(peer.received);
        expect(response?.status, `run ${run}`).toBe(status);
        expect(peer.received.length).toBe(
          peer.received.indexOf('\r\n\r\n') + 4 + Buffer.byteLength(response!.body),
        );
      }
      expect(server.clientErrors).toEqual(Array(10).fill(code));
    },
  );

  it('Node http server (server option), a wrong path: the client reads the whole 400 and a FIN (10 runs)', async () => {
    const httpServer = http.createServer();
    httpServer.listen(0, '127.0.0.1');
    await once(httpServer, 'listening');
    const wss = new WebSocketServer({ server: httpServer, path: '/ws' });
    cleanups.push(async () => {
      wss.close();
      httpServer.closeAllConnections();
      await new Promise((resolve) => httpServer.close(resolve));
    });
    const port = (httpServer.address() as net.AddressInfo).port;
    for (let run = 0; run < 10; run++) {
      const peer = new FloodingPeer(port);
      peer.write(handshakeRequest({ path: '/other' }).text);
      peer.flood(garbage);
      await waitFor(() => peer.closed, WAIT_MS, `run ${run}: the connection to end`);
      expect(peer.error, `run ${run}`).toBeUndefined();
      expect(peer.fin, `run ${run}`).toBe(true);
      expect(completeResponse(peer.received)?.status, `run ${run}`).toBe(400);
    }
  });

  it('drops a refused client that neither reads nor ends after the linger time (closeTimeout when shorter)', async () => {
    const server = await startServer({ path: '/ws', closeTimeout: 300 });
    const peer = new FloodingPeer(server.port, { halfOpen: true });
    peer.write(handshakeRequest({ path: '/other' }).text);
    await waitFor(() => peer.fin, WAIT_MS, 'the answer and FIN');
    expect(completeResponse(peer.received)?.status).toBe(400);
    await waitFor(
      () => EventBase.default().stats().liveBufferevents === 0,
      WAIT_MS,
      'the lingering bufferevent freed',
    );
  });
});

describe('our client when it fails the connection', () => {
  it('sends close 1002 and a FIN, keeps reading what the server still sends, and closes at its FIN', async () => {
    // A raw server: a valid 101, then a masked frame (forbidden to servers), then 8 MiB of junk.
    let serverGot = Buffer.alloc(0);
    let serverSawFin = false;
    let serverError: string | undefined;
    const rawServer = net.createServer({ allowHalfOpen: true }, (socket) => {
      let head = '';
      socket.on('error', (error: Error & { code?: string }) => (serverError = error.code));
      socket.on('data', (chunk: Buffer) => {
        if (!head.includes('\r\n\r\n')) {
          head += chunk.toString('latin1');
          const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1];
          if (!head.includes('\r\n\r\n') || key === undefined) return;
          socket.write(
            `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
          );
          socket.write(frames.text('masked'));
          const junk = Buffer.alloc(256 * 1024, 3);
          let left = 32;
          const pump = () => {
            while (left > 0) {
              left--;
              if (!socket.write(junk)) return;
            }
          };
          socket.on('drain', pump);
          pump();
          return;
        }
        serverGot = Buffer.concat([serverGot, chunk]);
      });
      socket.on('end', () => {
        serverSawFin = true;
        socket.end();
      });
    });
    rawServer.listen(0, '127.0.0.1');
    await once(rawServer, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => rawServer.close(() => resolve())));
    const client = new WebSocket(`ws://127.0.0.1:${(rawServer.address() as net.AddressInfo).port}/`, {
      closeTimeout: 60_000,
    });
    const events: string[] = [];
    client.on('error', (error: Error & { code?: string }) => events.push(`error ${error.code}`));
    client.on('close', (code: number) => events.push(`close ${code}`));
    await waitFor(() => serverSawFin, WAIT_MS, "the client's FIN");
    // Our close frame, masked, and nothing else; then the client waits for the server's FIN.
    const sent = serverGot;
    expect(sent[0]).toBe(0x88);
    expect(sent.length).toBe(2 + 4 + 2);
    await waitFor(() => events.length === 2, WAIT_MS, "the client's 'close'");
    expect(events).toEqual(['error WS_ERR_UNEXPECTED_MASK', 'close 1002']);
    expect(serverError).toBeUndefined();
  });
});

describe('pause()', () => {
  it('pause() really stops reading: a paused socket leaves what the peer sends in the kernel', async () => {
    const server = await startServer();
    let serverSide: WebSocket | undefined;
    const sizes: number[] = [];
    server.wss.once('connection', (ws) => {
      serverSide = ws;
      ws.pause();
      ws.on('message', (data: Buffer) => sizes.push(data.length));
    });
    const peer = new FloodingPeer(server.port);
    await peer.handshake();
    await waitFor(() => serverSide !== undefined, WAIT_MS, "'connection'");
    const total = 64 * 1024 * 1024;
    const payload = Buffer.alloc(total, 9);
    peer.write(buildFrame({ opcode: 2, length: total }).subarray(0, 14)); // header and mask key
    peer.write(payload); // masked or not does not matter: only the length is checked here
    // Asserting that something stops: poll until the kernel took nothing more for 300 ms.
    let taken = -1;
    for (let polls = 0; polls < 60 && taken !== total - peer.socket.writableLength; polls++) {
      taken = total - peer.socket.writableLength;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(peer.socket.writableLength).toBeGreaterThan(0);
    expect(total - peer.socket.writableLength).toBeLessThan(total / 2);
    expect(sizes).toEqual([]);
    serverSide!.resume();
    await waitFor(() => sizes.length === 1, WAIT_MS, 'the message after resume()');
    expect(sizes).toEqual([total]);
  });
});
