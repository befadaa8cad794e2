// Publish batching: a publish is held in each subscriber's cork until the end of the libevent pass,
// so every publish of a pass reaches a subscriber in one write, in order with what the connection
// sends meanwhile and before its close frame; a subscriber released while holding publishes is
// forgotten by the pass's end. `stats().writeThroughs` counts the server's writes; raw loopback
// clients check the bytes on the wire.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { EventBase } from '../../src/index.ts';
import { WebSocket, WebSocketServer, type ServerOptions } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, nextTurn, waitFor } from '../helpers.ts';
import {
  RawClient,
  WAIT_MS,
  closeCodeOf,
  frames,
  handshakeRequest,
  OPCODE,
  parseServerFrames,
} from './conformance/raw-client.ts';
import { deferCleanups } from './batch-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

const writeThroughs = () => EventBase.default().stats().writeThroughs;
const liveWebSockets = () => EventBase.default().stats().liveWebSockets;
/** The bytes of an unmasked server text frame with a payload under 126 bytes. */
const frameBytes = (text: string) => 2 + Buffer.byteLength(text);

const cleanups = deferCleanups();

/**
 * A server with `count` raw clients connected, every server socket subscribed to 'room' and set up
 * by `onConnection`; resolves once all are open, sockets in the clients' order.
 */
async function roomOf(
  count: number,
  options: ServerOptions = {},
  onConnection: (ws: WebSocket) => void = () => {},
): Promise<{ server: WebSocketServer; clients: RawClient[]; sockets: WebSocket[] }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  const sockets: WebSocket[] = [];
  server.on('connection', (ws: WebSocket) => {
    ws.subscribe('room');
    sockets.push(ws);
    onConnection(ws);
  });
  cleanups.push(async () => {
    for (const ws of server.clients) ws.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as { port: number }).port;
  const clients: RawClient[] = [];
  // One at a time, so sockets[i] is clients[i]'s connection.
  for (let i = 0; i < count; i++) {
    const client = await RawClient.open(port);
    cleanups.push(() => client.destroy());
    clients.push(client);
    await waitFor(() => sockets.length === i + 1, WAIT_MS, `connection ${i}`);
  }
  return { server, clients, sockets };
}

/** A client through the handshake that then stops reading: the server's output fills up. */
async function stalledClient(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  cleanups.push(() => void socket.destroy());
  let head = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.once('connect', () => socket.write(handshakeRequest().text));
    socket.on('data', (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.includes('\r\n\r\n')) {
        socket.removeAllListeners('data');
        socket.pause();
        resolve();
      }
    });
  });
  return socket;
}

const texts = async (client: RawClient, count: number) =>
  (await client.readMessages(count)).map((message) => message.data.toString());

describe('publishes in one pass', () => {
  it('reach 50 subscribers in order with one write each, not one per publish', async () => {
    const { server, clients, sockets } = await roomOf(50);
    // Small frames (copied into the cork) and 4 KiB ones (held by reference), 36 KiB in all.
    const messages = Array.from({ length: 16 }, (_, i) =>
      i % 2 === 0 ? `small ${i}` : `${i}`.padEnd(4096, '.'),
    );
    const wireBytes = messages.reduce((sum, text) => sum + text.length + (text.length < 126 ? 2 : 4), 0);
    const before = writeThroughs();
    for (const text of messages) expect(server.publish('room', text)).toEqual({ delivered: 50, skipped: 0 });
    // Nothing left yet: every subscriber holds all 16, counted in its bufferedAmount.
    expect(writeThroughs() - before).toBe(0);
    for (const ws of sockets) expect(ws.bufferedAmount).toBe(wireBytes);
    for (const client of clients) expect(await texts(client, 16)).toEqual(messages);
    expect(writeThroughs() - before).toBe(50);
    for (const ws of sockets) expect(ws.bufferedAmount).toBe(0);
  });

  it("keep their order with the subscriber's own sends between them, in the same write", async () => {
    const { server, clients, sockets } = await roomOf(2);
    const before = writeThroughs();
    server.publish('room', 'p1');
    expect(sockets[0]!.send('own 1')).toBe('ok');
    server.publish('room', 'p2');
    sockets[0]!.ping('ping');
    expect(sockets[0]!.send('own 2')).toBe('ok');
    server.publish('room', 'p3');
    const received = await clients[0]!.readMessages(6);
    expect(
      received.map((message) => `${message.opcode === OPCODE.PING ? 'ping ' : ''}${message.data.toString()}`),
    ).toEqual(['p1', 'own 1', 'p2', 'ping ping', 'own 2', 'p3']);
    expect(await texts(clients[1]!, 3)).toEqual(['p1', 'p2', 'p3']);
    expect(writeThroughs() - before).toBe(2);
    // Holding nothing, a send writes through at once again.
    const lone = writeThroughs();
    sockets[1]!.send('lone');
    expect(writeThroughs() - lone).toBe(1);
    expect(await texts(clients[1]!, 1)).toEqual(['lone']);
  });

  it('from a message handler: every sender in the pass and each subscriber gets one write', async () => {
    const { clients, server } = await roomOf(3, {}, (ws) => {
      ws.on('message', (data: Buffer) => server.publish('room', data.toString()));
    });
    const before = writeThroughs();
    await clients[0]!.send(Buffer.concat([frames.text('a1'), frames.text('a2'), frames.text('a3')]));
    for (const client of clients) expect(await texts(client, 3)).toEqual(['a1', 'a2', 'a3']);
    // The sender's batch and the other subscribers: one write each for the whole batch.
    expect(writeThroughs() - before).toBe(3);
  });

  it("a send's callback and 'drain' come once the held frames left", async () => {
    const { server, clients, sockets } = await roomOf(1);
    const events: string[] = [];
    const ws = sockets[0]!;
    ws.on('drain', () => events.push(`drain ${ws.bufferedAmount}`));
    server.publish('room', 'published');
    ws.send('sent', (error) => events.push(`callback ${error ?? 'ok'}`));
    expect(ws.bufferedAmount).toBe(frameBytes('published') + frameBytes('sent'));
    expect(events).toEqual([]);
    expect(await texts(clients[0]!, 2)).toEqual(['published', 'sent']);
    await waitFor(() => events.length === 2, WAIT_MS, 'the callback and drain');
    expect(events).toEqual(['callback ok', 'drain 0']);
  });
});

describe('publishes from outside a libevent pass', () => {
  for (const [name, schedule] of [
    ['setTimeout', (run: () => void) => setTimeout(run, 1)],
    ['setImmediate', (run: () => void) => setImmediate(run)],
  ] as const) {
    it(`from ${name}: held there, gone by the next loop turn`, async () => {
      const { server, clients, sockets } = await roomOf(2);
      const seen = await new Promise<{
        held: number[];
        writes: number;
        after: number[];
        writesAfter: number;
      }>((resolve) => {
        schedule(() => {
          const before = writeThroughs();
          server.publish('room', 'one');
          server.publish('room', 'two');
          const held = sockets.map((ws) => ws.bufferedAmount);
          const writes = writeThroughs() - before;
          setImmediate(() =>
            resolve({
              held,
              writes,
              after: sockets.map((ws) => ws.bufferedAmount),
              writesAfter: writeThroughs() - before,
            }),
          );
        });
      });
      const bytes = frameBytes('one') + frameBytes('two');
      expect(seen).toEqual({ held: [bytes, bytes], writes: 0, after: [0, 0], writesAfter: 2 });
      for (const client of clients) expect(await texts(client, 2)).toEqual(['one', 'two']);
    });
  }
});

describe('closing with publishes held', () => {
  it('close(): the publishes first, then the close frame, and nothing after it', async () => {
    const { server, clients, sockets } = await roomOf(2);
    server.publish('room', 'before close');
    sockets[0]!.close(1000, 'bye');
    // Passed over once its close frame was sent: neither delivered nor skipped.
    expect(server.publish('room', 'after close')).toEqual({ delivered: 1, skipped: 0 });
    const close = await clients[0]!.waitForCloseFrame();
    expect(close.before.map((message) => message.data.toString())).toEqual(['before close']);
    expect(closeCodeOf(close)).toBe(1000);
    await clients[0]!.send(frames.close(1000));
    const { bytes, end } = await clients[0]!.readUntilTcpClose();
    expect(parseServerFrames(bytes)).toEqual([]);
    expect(end).toBe('fin');
    expect(await texts(clients[1]!, 2)).toEqual(['before close', 'after close']);
  });

  it("the peer's close frame in the publishing batch: publish, close frame, then FIN", async () => {
    const { server, clients } = await roomOf(1, {}, (ws) => {
      ws.on('message', (data: Buffer) => server.publish('room', `pub ${data.toString()}`));
    });
    await clients[0]!.send(Buffer.concat([frames.text('x'), frames.close(1000)]));
    const { bytes, end } = await clients[0]!.readUntilTcpClose();
    expect(parseServerFrames(bytes).map((frame) => [frame.opcode, frame.payload.toString('hex')])).toEqual([
      [OPCODE.TEXT, Buffer.from('pub x').toString('hex')],
      [OPCODE.CLOSE, '03e8'],
    ]);
    expect(end).toBe('fin');
  });

  it('terminate() right after publishing: what was held gets its one write, nothing leaks', async () => {
    const webSocketsBefore = liveWebSockets();
    const { server, clients, sockets } = await roomOf(4);
    const large = Buffer.alloc(200 * 1024, 'L');
    server.publish('room', 'small');
    server.publish('room', large);
    // Released while listed for the pass's end: the pass must not reach them.
    sockets[0]!.terminate();
    sockets[1]!.terminate();
    server.publish('room', 'later');
    const largeHead = Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 0, 0, 0]);
    largeHead.writeUInt32BE(large.length, 6);
    const held = Buffer.concat([Buffer.from([0x81, 5]), Buffer.from('small'), largeHead, large]);
    for (const client of clients.slice(0, 2)) {
      // 'small', then as much of the large frame as the kernel took, and nothing published later.
      const { bytes } = await client.readUntilTcpClose();
      expect(bytes.length).toBeGreaterThanOrEqual(7);
      expect(bytes.equals(held.subarray(0, bytes.length))).toBe(true);
    }
    for (const client of clients.slice(2)) {
      const received = await client.readMessages(3);
      expect(received.map((message) => message.data.length)).toEqual([5, large.length, 5]);
      expect(received[1]!.data.equals(large)).toBe(true);
    }
    for (const ws of sockets.slice(2)) ws.terminate();
    await waitFor(() => liveWebSockets() === webSocketsBefore, WAIT_MS, 'the connections released');
    await nextTurn();
  });
});

describe('backpressure with publishes held', () => {
  it('a reader keeping up is never skipped, even when a pass publishes more than backpressureBytes', async () => {
    const { server, clients, sockets } = await roomOf(2, { backpressureBytes: 1000 });
    const messages = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(120, '.'));
    const before = writeThroughs();
    for (const text of messages) expect(server.publish('room', text)).toEqual({ delivered: 2, skipped: 0 });
    for (const client of clients) expect(await texts(client, 20)).toEqual(messages);
    for (const ws of sockets) expect(ws.skippedPublishes).toBe(0);
    // Going over 1000 bytes held sent them early: 3 writes per subscriber, not 20.
    expect(writeThroughs() - before).toBe(6);
  });

  it(
    'a stalled subscriber is skipped and counted; the others get everything in order',
    { timeout: 60_000 },
    async () => {
      const { server, clients, sockets } = await roomOf(2, { backpressureBytes: 64 * 1024 });
      await stalledClient((server.address() as { port: number }).port);
      await waitFor(() => sockets.length === 3, WAIT_MS, 'the stalled connection');
      const stalled = sockets[2]!;
      const payload = Buffer.alloc(64 * 1024, 'p');
      let skipped = 0;
      for (let round = 0; skipped === 0 && round < 500; round++) {
        // Eight publishes in a pass; the readers take them all before the next round.
        for (let i = 0; i < 8; i++) {
          const result = server.publish('room', payload);
          expect(result.delivered + result.skipped).toBe(3);
          skipped += result.skipped;
        }
        for (const client of clients) {
          const received = await client.readMessages(8);
          expect(received.every((message) => message.data.equals(payload))).toBe(true);
        }
      }
      expect(skipped).toBeGreaterThan(0);
      expect(stalled.skippedPublishes).toBe(skipped);
      for (const ws of sockets.slice(0, 2)) expect(ws.skippedPublishes).toBe(0);
      // Once over, every later publish skips it, and only it.
      for (let i = 0; i < 3; i++) expect(server.publish('room', 'x')).toEqual({ delivered: 2, skipped: 1 });
      expect(stalled.skippedPublishes).toBe(skipped + 3);
    },
  );
});
