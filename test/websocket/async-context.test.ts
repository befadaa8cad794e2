// Each WebSocket is an async resource of its own, as a net.Socket is: its events run in its own
// async context, so AsyncLocalStorage state a handler enters stays with that connection, and the
// context a connection was opened in reaches its handlers.
import { AsyncLocalStorage, executionAsyncId } from 'node:async_hooks';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, waitFor } from '../helpers.ts';

checkNothingLeaksAfterEach();

const WAIT_MS = 10_000;
const MESSAGES = 4;

async function listening(): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  return wss;
}

async function openClient(port: number): Promise<WebSocket> {
  const client = new WebSocket(`ws://127.0.0.1:${port}/`);
  await once(client, 'open');
  return client;
}

async function closeAll(wss: WebSocketServer, clients: WebSocket[]): Promise<void> {
  await Promise.all(
    clients.map(async (client) => {
      const closed = once(client, 'close');
      client.close();
      await closed;
    }),
  );
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}

describe('the async context of a WebSocket', () => {
  it("keeps what a server socket's handler entered to that socket, message after message", async () => {
    const storage = new AsyncLocalStorage<{ socket: number }>();
    const wss = await listening();
    const seen = new Map<number, ({ socket: number } | undefined)[]>();
    const asyncIds = new Map<number, Set<number>>();
    let opened = 0;
    wss.on('connection', (ws) => {
      const socket = opened++;
      seen.set(socket, []);
      asyncIds.set(socket, new Set());
      ws.on('message', () => {
        seen.get(socket)!.push(storage.getStore());
        asyncIds.get(socket)!.add(executionAsyncId());
        // Entered in the socket's own context: later messages of this socket see it, no other does.
        if (storage.getStore() === undefined) storage.enterWith({ socket });
      });
    });
    const { port } = wss.address() as { port: number };
    const clients = [await openClient(port), await openClient(port)];
    await waitFor(() => opened === 2, WAIT_MS, 'both connections');
    // Interleaved, one at a time, so that each message is a read (and a JavaScript call) of its own.
    for (let i = 0; i < MESSAGES; i++) {
      for (const [index, client] of clients.entries()) {
        client.send(`m${i}`);
        await waitFor(() => seen.get(index)!.length === i + 1, WAIT_MS, `message ${i} of socket ${index}`);
      }
    }
    for (const socket of [0, 1]) {
      const stores = seen.get(socket)!;
      expect(stores[0]).toBeUndefined();
      expect(stores.slice(1)).toEqual(Array.from({ length: MESSAGES - 1 }, () => ({ socket })));
    }
    // Two resources, one per socket, neither the top level's.
    const [first, second] = [asyncIds.get(0)!, asyncIds.get(1)!];
    expect(first.size).toBe(1);
    expect(second.size).toBe(1);
    expect([...first][0]).not.toBe([...second][0]);
    expect([...first][0]).not.toBe(1);
    await closeAll(wss, clients);
  });

  it("reaches a client's handlers with the context the client was made in", async () => {
    const storage = new AsyncLocalStorage<string>();
    const wss = await listening();
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
    const { port } = wss.address() as { port: number };
    const stores: (string | undefined)[] = [];
    const clients = await Promise.all(
      ['left', 'right'].map((name) =>
        storage.run(name, async () => {
          const client = await openClient(port);
          client.on('message', () => stores.push(`${name}:${storage.getStore()}`));
          return client;
        }),
      ),
    );
    for (const client of clients) client.send('echo me');
    await waitFor(() => stores.length === 2, WAIT_MS, 'both echoes');
    expect(stores.sort()).toEqual(['left:left', 'right:right']);
    await closeAll(wss, clients);
  });
});
