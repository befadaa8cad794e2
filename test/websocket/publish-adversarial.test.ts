// Publishes held until the end of the pass, under adversarial use: subscribers closed, terminated
// and the server closed by a listener in the same pass after publishing, publishes from 'close'
// listeners, and frames over 64 KiB (held by reference, flushed early) mixed with small ones for a
// subscriber that is also the sender. Raw loopback clients check the exact bytes on the wire.
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';
import { RawClient, WAIT_MS, closeCodeOf, frames } from './conformance/raw-client.ts';
import { deferCleanups } from './batch-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

const cleanups = deferCleanups();

async function roomOf(
  count: number,
  onConnection: (ws: WebSocket, server: WebSocketServer, index: number) => void,
): Promise<{ server: WebSocketServer; clients: RawClient[]; sockets: WebSocket[] }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const sockets: WebSocket[] = [];
  server.on('connection', (ws: WebSocket) => {
    ws.subscribe('room');
    sockets.push(ws);
    onConnection(ws, server, sockets.length - 1);
  });
  cleanups.push(async () => {
    for (const ws of sockets) ws.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as { port: number }).port;
  const clients: RawClient[] = [];
  for (let i = 0; i < count; i++) {
    const client = await RawClient.open(port);
    cleanups.push(() => client.destroy());
    clients.push(client);
    await waitFor(() => sockets.length === i + 1, WAIT_MS, `connection ${i}`);
  }
  return { server, clients, sockets };
}

const textsOf = (messages: { data: Buffer }[]) => messages.map((message) => message.data.toString());

describe('closing in the pass that published', () => {
  it('close(), terminate() and server.close() after publishes: each subscriber gets what it was due, in order', async () => {
    let serverClosed = false;
    const { clients } = await roomOf(3, (ws, server, index) => {
      if (index !== 0) return;
      ws.on('message', () => {
        const [, closing, terminated] = [...server.clients];
        server.publish('room', 'p1');
        ws.send('own');
        server.publish('room', 'p2');
        closing!.close(4000, 'bye');
        server.publish('room', 'p3'); // passed over by the closing socket
        terminated!.terminate(); // what it holds gets its one write first
        server.close(() => (serverClosed = true));
        server.publish('room', 'p4'); // the server is closed, its open sockets still subscribed
      });
    });
    await clients[0]!.send(frames.text('go'));
    expect(textsOf(await clients[0]!.readMessages(5))).toEqual(['p1', 'own', 'p2', 'p3', 'p4']);
    const closeFrame = await clients[1]!.waitForCloseFrame();
    expect(textsOf(closeFrame.before)).toEqual(['p1', 'p2']);
    expect(closeCodeOf(closeFrame)).toBe(4000);
    const { bytes } = await clients[2]!.readUntilTcpClose();
    expect(bytes).toEqual(
      Buffer.concat(['p1', 'p2', 'p3'].map((text) => Buffer.from([0x81, text.length, ...Buffer.from(text)]))),
    );
    await turns(5);
    expect(clients[0]!.unread.length).toBe(0);
    // Emitted on the next tick (docs/api.md); the open sockets stayed open and served.
    expect(serverClosed).toBe(true);
  });

  it("a publish from a 'close' listener reaches the others, not the closed socket, and nothing crashes", async () => {
    const { server, clients, sockets } = await roomOf(3, (ws, srv, index) => {
      ws.on('close', () => srv.publish('room', `gone ${index}`));
      if (index === 0) ws.on('message', () => sockets[1]!.terminate());
    });
    void server;
    await clients[0]!.send(frames.text('kill 1'));
    expect(textsOf(await clients[0]!.readMessages(1))).toEqual(['gone 1']);
    expect(textsOf(await clients[2]!.readMessages(1))).toEqual(['gone 1']);
    expect(await clients[1]!.waitForTcpClose()).toBeDefined();
    // The peer of 2 closes: its 'close' listener publishes from inside the close handshake.
    await clients[2]!.send(frames.close(1000));
    expect(closeCodeOf(await clients[2]!.waitForCloseFrame())).toBe(1000);
    expect(textsOf(await clients[0]!.readMessages(1))).toEqual(['gone 2']);
    await turns(5);
    expect(clients[2]!.unread.length).toBe(0);
  });
});

describe('large publishes', () => {
  it('frames over 64 KiB mixed with small ones keep their order and bytes, the sender included', async () => {
    const large = (n: number, size: number) => Buffer.alloc(size, 0x41 + n);
    const { clients } = await roomOf(3, (ws, server, index) => {
      if (index !== 0) return;
      ws.on('message', (data: Buffer) => {
        const round = data.toString();
        server.publish('room', `${round} s0`);
        server.publish('room', large(1, 70 * 1024));
        ws.send(`${round} own`);
        server.publish('room', `${round} s2`);
        server.publish('room', large(3, 200 * 1024));
        server.publish('room', large(4, 1000));
        server.publish('room', `${round} s5`);
      });
    });
    // Three rounds in one read: three batches' worth of publishes in one pass.
    await clients[0]!.send(Buffer.concat([frames.text('r0'), frames.text('r1'), frames.text('r2')]));
    for (const [index, client] of clients.entries()) {
      const messages = await client.readMessages(index === 0 ? 21 : 18);
      const summary = messages.map((message) =>
        message.data.length > 100
          ? `L${String.fromCharCode(message.data[0]!)}${message.data.length}${
              message.data.every((byte) => byte === message.data[0]) ? '' : ' corrupt'
            }`
          : message.data.toString(),
      );
      const expected = ['r0', 'r1', 'r2'].flatMap((round) => [
        `${round} s0`,
        `LB${70 * 1024}`,
        ...(index === 0 ? [`${round} own`] : []),
        `${round} s2`,
        `LD${200 * 1024}`,
        'LE1000',
        `${round} s5`,
      ]);
      expect(summary, `client ${index}`).toEqual(expected);
    }
  });
});

describe('a subscriber sending a fragmented message', () => {
  it('gets the publishes of the meantime after its last fragment, never between its frames', async () => {
    const { clients } = await roomOf(2, (ws, server, index) => {
      if (index !== 0) return;
      ws.on('message', (data: Buffer) => {
        if (data.toString() === 'start') {
          ws.send('part 1 ', { fin: false });
          server.publish('room', 'news a');
          ws.send('part 2 ', { fin: false });
          server.publish('room', Buffer.alloc(2000, 0x42));
        } else {
          server.publish('room', 'news c');
          ws.send('end', { fin: true });
          server.publish('room', 'news d');
        }
      });
    });
    await clients[0]!.send(frames.text('start'));
    // The other subscriber is not held back by the sender's open message.
    const other = await clients[1]!.readMessages(2);
    expect(other.map((message) => message.data.length)).toEqual([6, 2000]);
    await clients[0]!.send(frames.text('finish'));
    const messages = await clients[0]!.readMessages(5);
    expect(
      messages.map((message) => [
        message.frames,
        message.data.length > 100 ? 'B2000' : message.data.toString(),
      ]),
    ).toEqual([
      [3, 'part 1 part 2 end'],
      [1, 'news a'],
      [1, 'B2000'],
      [1, 'news c'],
      [1, 'news d'],
    ]);
    expect(textsOf(await clients[1]!.readMessages(2))).toEqual(['news c', 'news d']);
  });
});
