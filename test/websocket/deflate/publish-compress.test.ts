// Publish under permessage-deflate, seen on the wire by raw clients: subscribers that agreed
// compression without context takeover get the same compressed frame (RSV1 on, inflating to the
// message), a subscriber that did not agree gets the plain frame, a message under the threshold
// and a publish with `compress: false` go plain to everyone.
import { once } from 'node:events';
import { constants, inflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from '../../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, waitFor } from '../../helpers.ts';
import { RawClient, WAIT_MS } from '../conformance/raw-client.ts';

checkNothingLeaksAfterEach({ fds: true });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const OFFER = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';

async function room(offers: (string | null)[]): Promise<{ server: WebSocketServer; clients: RawClient[] }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 100 } });
  const sockets: WebSocket[] = [];
  server.on('connection', (ws: WebSocket) => {
    ws.subscribe('news');
    sockets.push(ws);
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate();
        server.close(() => resolve());
      }),
  );
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const clients: RawClient[] = [];
  for (const offer of offers) {
    const client = await RawClient.open(
      port,
      offer === null ? {} : { headers: { 'Sec-WebSocket-Extensions': offer } },
    );
    cleanups.push(() => client.destroy());
    clients.push(client);
    await waitFor(() => sockets.length === clients.length, WAIT_MS, 'the connection');
  }
  return { server, clients };
}

/** RFC 7692 §7.2.2: the tail put back, and no final block expected. */
const inflate = (payload: Buffer) =>
  inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), {
    finishFlush: constants.Z_SYNC_FLUSH,
  });

describe('publish with compression', () => {
  it('shares one compressed frame among subscribers without takeover; plain for the others', async () => {
    const { server, clients } = await room([OFFER, OFFER, null]);
    const message = JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ id: i, status: 'ok' })));
    expect(server.publish('news', message)).toEqual({ delivered: 3, skipped: 0 });
    const [a, b, plain] = await Promise.all(clients.map((client) => client.readFrame()));
    expect([a!.rsv1, b!.rsv1, plain!.rsv1]).toEqual([true, true, false]);
    expect(a!.payload.equals(b!.payload)).toBe(true);
    expect(a!.payload.length).toBeLessThan(message.length / 3);
    expect(inflate(a!.payload).toString()).toBe(message);
    expect(plain!.payload.toString()).toBe(message);
  });

  it('sends a message under the threshold, and one published with compress: false, plain to everyone', async () => {
    const { server, clients } = await room([OFFER, null]);
    const large = 'abc'.repeat(1000);
    server.publish('news', 'short');
    server.publish('news', large, { compress: false });
    server.publish('news', Buffer.from(large), { binary: true });
    for (const [index, client] of clients.entries()) {
      const frames = [await client.readFrame(), await client.readFrame(), await client.readFrame()];
      expect(frames.map((frame) => [frame.opcode, frame.rsv1])).toEqual([
        [1, false],
        [1, false],
        [2, index === 0],
      ]);
      expect(frames[1]!.payload.toString()).toBe(large);
      expect((index === 0 ? inflate(frames[2]!.payload) : frames[2]!.payload).toString()).toBe(large);
    }
  });
});
