// A native WebSocket connection's life: JavaScript knows it only by its id, so nothing but the
// connection's own close ends it, and its memory goes at the end of the pass it was closed in
// (or of the one run soon after, when JavaScript closed it outside a pass). An open server socket
// nobody references keeps working; once closed it is collected like any object.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { EventBase } from '../../src/index.ts';
import { native } from '../../src/native.ts';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';
import { collectUntil } from '../leaks/gc.ts';

checkNothingLeaksAfterEach({ fds: true });

const WAIT_MS = 10_000;
const objects = () => native.wsConnectionObjects();
const openSockets = () => EventBase.default().stats().liveWebSockets;

async function listening(
  options: ConstructorParameters<typeof WebSocketServer>[0] = {},
): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  return wss;
}

const portOf = (wss: WebSocketServer) => (wss.address() as { port: number }).port;

async function openClient(port: number): Promise<WebSocket> {
  const client = new WebSocket(`ws://127.0.0.1:${port}/`);
  await once(client, 'open');
  return client;
}

async function closeServer(wss: WebSocketServer): Promise<void> {
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}

describe('a native WebSocket connection', () => {
  it('is deleted after a close from a timer, from a handler mid-batch, and by the peer', async () => {
    const wss = await listening();
    const serverSockets: WebSocket[] = [];
    wss.on('connection', (ws) => {
      serverSockets.push(ws);
      ws.on('message', (data) => {
        if (data.toString() === 'terminate me') ws.terminate();
      });
    });
    const port = portOf(wss);
    const clients = [await openClient(port), await openClient(port), await openClient(port)];
    await waitFor(() => serverSockets.length === 3, WAIT_MS, 'three server sockets');
    // Three clients and their three server sockets.
    expect(objects()).toBe(6);
    expect(openSockets()).toBe(6);

    // From a timer, outside any libevent pass: the id finds nothing at once, the object goes soon.
    // (Each server socket's end closes its client's connection too: they go in pairs.)
    const timerClosed = once(serverSockets[0]!, 'close');
    const clientClosed = once(clients[0]!, 'close');
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        serverSockets[0]!.terminate();
        resolve();
      }, 1),
    );
    await timerClosed;
    await clientClosed;
    await waitFor(() => objects() === 4, WAIT_MS, 'the pair closed from a timer deleted');

    // From a message handler, in the middle of a batch: the messages after it are dropped.
    const handlerClosed = once(serverSockets[1]!, 'close');
    const secondClientClosed = once(clients[1]!, 'close');
    const afterClose: string[] = [];
    serverSockets[1]!.on('message', (data) => afterClose.push(data.toString()));
    for (const text of ['one', 'terminate me', 'never delivered']) clients[1]!.send(text);
    await handlerClosed;
    expect(afterClose).toEqual(['one', 'terminate me']);
    await secondClientClosed;
    await waitFor(() => objects() === 2, WAIT_MS, 'the pair closed in a handler deleted');

    // By the peer: the close handshake ends both sides' connections.
    const peerClosed = once(serverSockets[2]!, 'close');
    clients[2]!.close(1000, 'bye');
    const lastClientClosed = once(clients[2]!, 'close');
    await peerClosed;
    await lastClientClosed;
    await waitFor(() => objects() === 0, WAIT_MS, 'every connection deleted');
    expect(openSockets()).toBe(0);
    await closeServer(wss);
  });

  it('of a server socket nobody references keeps delivering, and the socket is collected once closed', async () => {
    // No clientTracking: the library itself holds the socket only while its connection is open.
    const wss = await listening({ clientTracking: false });
    let socketRef: WeakRef<WebSocket> | null = null;
    wss.on('connection', (ws) => {
      socketRef = new WeakRef(ws);
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    const client = await openClient(portOf(wss));
    await waitFor(() => socketRef !== null, WAIT_MS, 'the server socket');
    expect(await collectUntil(() => socketRef!.deref() === undefined, 10)).toBe(false);

    const echoes: string[] = [];
    client.on('message', (data) => echoes.push(data.toString()));
    for (let i = 0; i < 5; i++) client.send(`m${i}`);
    await waitFor(() => echoes.length === 5, WAIT_MS, 'the echoes');
    expect(echoes).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);

    client.close();
    await once(client, 'close');
    expect(await collectUntil(() => socketRef!.deref() === undefined)).toBe(true);
    await turns(2);
    expect(objects()).toBe(0);
    await closeServer(wss);
  });

  it('numbers its connections so that a slot reused many times never answers to an old id', async () => {
    const wss = await listening();
    const port = portOf(wss);
    const seen = new Set<number>();
    // 300 > 255 generations of the same few slots: ids must stay distinct while each is open, and
    // every connection must still reach the right socket.
    for (let round = 0; round < 300; round++) {
      const accepted = once(wss, 'connection');
      const client = await openClient(port);
      const [server] = (await accepted) as [WebSocket];
      const echoed = once(client, 'message');
      server.once('message', (data) => server.send(`${round}:${data.toString()}`));
      client.send('ping');
      const [reply] = (await echoed) as [Buffer];
      expect(reply.toString()).toBe(`${round}:ping`);
      seen.add(round);
      const closed = once(client, 'close');
      server.terminate();
      await closed;
    }
    expect(seen.size).toBe(300);
    await waitFor(() => objects() === 0, WAIT_MS, 'every connection deleted');
    await closeServer(wss);
  });
});
