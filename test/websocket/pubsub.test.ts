// Pub/sub: WebSocketServer.publish frames once and writes natively to every subscriber. Real
// loopback clients (raw TCP, so the bytes on the wire are checked as they are) receive every
// publish byte-identical and in order; a stalled subscriber is skipped and counted; leaving (by
// unsubscribe or by closing) leaves topics, and repeated cycles leave nothing behind.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBase } from '../../src/index.ts';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { liveTopicCount } from '../../src/websocket/topics.ts';
import { liveCounts, waitFor } from '../helpers.ts';
import { settledHeapUsed } from '../leaks/gc.ts';

const REQUEST_HEAD = (port: number) =>
  `GET /pubsub HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/** The unmasked server frame of a message, as every subscriber must receive it. */
function serverFrame(payload: Buffer, binary: boolean): Buffer {
  const opcode = binary ? 0x2 : 0x1;
  if (payload.length <= 125) return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]);
  if (payload.length <= 0xffff) {
    const head = Buffer.from([0x80 | opcode, 126, 0, 0]);
    head.writeUInt16BE(payload.length, 2);
    return Buffer.concat([head, payload]);
  }
  const head = Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  head[1] = 127;
  head.writeBigUInt64BE(BigInt(payload.length), 2);
  return Buffer.concat([head, payload]);
}

interface RawClient {
  socket: net.Socket;
  /** Everything received after the 101 answer. */
  received: () => Buffer;
  receivedBytes: () => number;
  closed: Promise<void>;
}

/** A raw client through the handshake; resolves once the 101 has arrived. */
function rawClient(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let upgraded = false;
    let head = Buffer.alloc(0);
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(REQUEST_HEAD(port)));
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      if (upgraded) {
        chunks.push(chunk);
        bytes += chunk.length;
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!head.subarray(0, 13).equals(Buffer.from('HTTP/1.1 101 '))) {
        reject(new Error(`no 101: ${head.subarray(0, 40).toString('latin1')}`));
        return;
      }
      upgraded = true;
      if (end + 4 < head.length) chunks.push(head.subarray(end + 4));
      bytes = head.length - (end + 4);
      resolve({ socket, received: () => Buffer.concat(chunks), receivedBytes: () => bytes, closed });
    });
  });
}

function typedErrorCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

async function startServer(options: { backpressureBytes?: number } = {}) {
  const sockets: WebSocket[] = [];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', backlog: 1024, ...options });
  wss.on('connection', (ws: WebSocket) => sockets.push(ws));
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as { port: number };
  return { wss, port, sockets };
}

async function closeServer(wss: WebSocketServer): Promise<void> {
  for (const ws of wss.clients) ws.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}

function nativeCounts() {
  return {
    ...liveCounts(),
    webSockets: EventBase.default().stats().liveWebSockets,
    topics: liveTopicCount(),
  };
}

describe('WebSocketServer.publish', () => {
  let servers: WebSocketServer[] = [];
  afterEach(async () => {
    for (const wss of servers) await closeServer(wss);
    servers = [];
  });

  it(
    '1,000 subscribers receive every message byte-identical and in order, text and binary',
    { timeout: 120_000 },
    async () => {
      const CLIENTS = 1000;
      const MESSAGES = 20;
      const { wss, port, sockets } = await startServer();
      servers.push(wss);
      const clients: RawClient[] = [];
      for (let batch = 0; batch < CLIENTS; batch += 200) {
        clients.push(...(await Promise.all(Array.from({ length: 200 }, () => rawClient(port)))));
      }
      await waitFor(() => sockets.length === CLIENTS);
      for (const ws of sockets) expect(ws.subscribe('room')).toBe(true);
      const expected: Buffer[] = [];
      for (let i = 0; i < MESSAGES; i++) {
        // Sizes across the three length encodings; even messages text, odd binary.
        const size = [5, 300, 70_000][i % 3]!;
        const payload = Buffer.alloc(size, i);
        payload.write(`message ${i}`);
        const binary = i % 2 === 1;
        const result = binary
          ? wss.publish('room', payload)
          : wss.publish('room', payload.toString('latin1'), { binary: false });
        expect(result).toEqual({ delivered: CLIENTS, skipped: 0 });
        expected.push(
          serverFrame(binary ? payload : Buffer.from(payload.toString('latin1'), 'utf8'), binary),
        );
      }
      const all = Buffer.concat(expected);
      await waitFor(() => clients.every((client) => client.receivedBytes() >= all.length), 60_000);
      for (const client of clients) expect(client.received().equals(all)).toBe(true);
      // A different topic and another server's topic of the same name reach nobody here.
      expect(wss.publish('other', 'x')).toEqual({ delivered: 0, skipped: 0 });
      for (const client of clients) client.socket.destroy();
      await waitFor(() => wss.clients.size === 0);
      expect(liveTopicCount()).toBe(0);
    },
  );

  it(
    'skips and counts a stalled subscriber while the others receive everything',
    { timeout: 60_000 },
    async () => {
      const { wss, port, sockets } = await startServer({ backpressureBytes: 64 * 1024 });
      servers.push(wss);
      const stalled = await rawClient(port);
      stalled.socket.pause(); // stops reading: the kernel buffers fill, then the server's output
      const readers = await Promise.all([rawClient(port), rawClient(port), rawClient(port)]);
      await waitFor(() => sockets.length === 4);
      for (const ws of sockets) ws.subscribe('feed');
      const payload = Buffer.alloc(256 * 1024, 7);
      const frame = serverFrame(payload, true);
      let skipped = 0;
      let published = 0;
      while (skipped === 0 && published < 400) {
        const result = wss.publish('feed', payload);
        published++;
        skipped += result.skipped;
        expect(result.delivered + result.skipped).toBe(4);
        // The readers take everything before the next publish: only the stalled one falls behind.
        await waitFor(
          () => readers.every((client) => client.receivedBytes() === frame.length * published),
          30_000,
        );
      }
      expect(skipped).toBe(1);
      for (let i = 0; i < 3; i++) expect(wss.publish('feed', payload)).toEqual({ delivered: 3, skipped: 1 });
      published += 3;
      expect(sockets[0]!.skippedPublishes).toBe(4);
      for (const ws of sockets.slice(1)) expect(ws.skippedPublishes).toBe(0);
      await waitFor(
        () => readers.every((client) => client.receivedBytes() >= frame.length * published),
        30_000,
      );
      const all = Buffer.concat(Array.from({ length: published }, () => frame));
      for (const client of readers) expect(client.received().equals(all)).toBe(true);
      stalled.socket.destroy();
      for (const client of readers) client.socket.destroy();
    },
  );

  it('unsubscribe and close leave topics; empty topics go away', async () => {
    const before = liveTopicCount();
    const { wss, port, sockets } = await startServer();
    servers.push(wss);
    const [a, b] = await Promise.all([rawClient(port), rawClient(port)]);
    await waitFor(() => sockets.length === 2);
    const [wa, wb] = sockets as [WebSocket, WebSocket];
    expect(wa.subscribe('t1')).toBe(true);
    expect(wa.subscribe('t1')).toBe(false);
    expect(wa.subscribe('t2')).toBe(true);
    expect(wb.subscribe('t1')).toBe(true);
    expect(wa.topics).toEqual(['t1', 't2']);
    expect(wa.isSubscribed('t2')).toBe(true);
    expect(liveTopicCount()).toBe(before + 2);
    expect(wa.unsubscribe('t2')).toBe(true);
    expect(wa.unsubscribe('t2')).toBe(false);
    expect(wa.isSubscribed('t2')).toBe(false);
    expect(liveTopicCount()).toBe(before + 1);
    expect(wss.publish('t2', 'nobody')).toEqual({ delivered: 0, skipped: 0 });
    wa.close();
    // A closing socket is passed over: neither delivered nor skipped.
    expect(wss.publish('t1', 'one')).toEqual({ delivered: 1, skipped: 0 });
    a.socket.destroy();
    await waitFor(() => wa.readyState === WebSocket.CLOSED);
    expect(wa.topics).toEqual([]);
    expect(wss.publish('t1', 'two')).toEqual({ delivered: 1, skipped: 0 });
    wb.terminate();
    await waitFor(() => wb.readyState === WebSocket.CLOSED);
    expect(wb.subscribe('t1')).toBe(false);
    expect(liveTopicCount()).toBe(before);
    expect(wss.publish('t1', 'three')).toEqual({ delivered: 0, skipped: 0 });
    b.socket.destroy();
  });

  it('keeps topics per server', async () => {
    const one = await startServer();
    const two = await startServer();
    servers.push(one.wss, two.wss);
    const clients = await Promise.all([rawClient(one.port), rawClient(two.port)]);
    await waitFor(() => one.sockets.length === 1 && two.sockets.length === 1);
    one.sockets[0]!.subscribe('same');
    two.sockets[0]!.subscribe('same');
    expect(one.wss.publish('same', 'hi')).toEqual({ delivered: 1, skipped: 0 });
    await waitFor(() => clients[0].received().length === 4);
    expect(clients[1].received().length).toBe(0);
    for (const client of clients) client.socket.destroy();
  });

  it('refuses bad topics and data with coded errors, and client sockets', async () => {
    const { wss, port, sockets } = await startServer();
    servers.push(wss);
    const raw = await rawClient(port);
    await waitFor(() => sockets.length === 1);
    const ws = sockets[0]!;
    for (const topic of ['', 'x'.repeat(1025), 'é'.repeat(513), 42, undefined, null]) {
      expect(typedErrorCode(() => ws.subscribe(topic as string))).toBe('WS_ERR_INVALID_TOPIC');
      expect(typedErrorCode(() => wss.publish(topic as string, 'x'))).toBe('WS_ERR_INVALID_TOPIC');
    }
    expect(ws.subscribe('x'.repeat(1024))).toBe(true);
    for (const data of [{}, Symbol('s'), new Blob(['b'])]) {
      expect(typedErrorCode(() => wss.publish('t', data as unknown as string))).toBe('WS_ERR_INVALID_DATA');
    }
    const client = new WebSocket(`ws://127.0.0.1:${port}/`);
    await new Promise((resolve) => client.once('open', resolve));
    expect(typedErrorCode(() => client.subscribe('t'))).toBe('WS_ERR_NOT_SERVER_SOCKET');
    client.terminate();
    raw.socket.destroy();
  });

  it(
    '10,000 subscribe cycles leave live counts, topics and heap where they were',
    { timeout: 120_000 },
    async () => {
      const { wss, port, sockets } = await startServer();
      servers.push(wss);
      const warm = await rawClient(port);
      await waitFor(() => sockets.length === 1);
      warm.socket.destroy();
      await waitFor(() => wss.clients.size === 0);
      const before = nativeCounts();
      const heapBefore = await settledHeapUsed();
      // 9,600 subscribe/unsubscribe cycles over a few sockets ...
      const few = await Promise.all(Array.from({ length: 4 }, () => rawClient(port)));
      await waitFor(() => wss.clients.size === 4);
      const open = [...wss.clients];
      for (let i = 0; i < 9600; i++) {
        const ws = open[i % 4]!;
        ws.subscribe(`topic-${i % 50}`);
        ws.subscribe('shared');
        if (i % 3 === 0) wss.publish('shared', 'tick');
        ws.unsubscribe(`topic-${i % 50}`);
        if (i % 7 === 0) ws.unsubscribe('shared');
      }
      for (const client of few) client.socket.destroy();
      await waitFor(() => wss.clients.size === 0);
      // ... and 400 connect, subscribe, close cycles in batches.
      for (let batch = 0; batch < 4; batch++) {
        const clients = await Promise.all(Array.from({ length: 100 }, () => rawClient(port)));
        await waitFor(() => wss.clients.size === 100);
        let n = 0;
        for (const ws of wss.clients) {
          ws.subscribe(`conn-${n++}`);
          ws.subscribe('everyone');
        }
        expect(wss.publish('everyone', 'bye')).toEqual({ delivered: 100, skipped: 0 });
        for (const client of clients) client.socket.destroy();
        await waitFor(() => wss.clients.size === 0);
      }
      await waitFor(() => nativeCounts().webSockets === before.webSockets);
      expect(nativeCounts()).toEqual(before);
      const growth = (await settledHeapUsed()) - heapBefore;
      expect(growth).toBeLessThan(8 * 1024 * 1024);
    },
  );
});
