// WebSocketServer.clients: a server-side socket is in it from 'connection' until its 'close', as in
// ws. The socket leaves it itself, just before emitting 'close' (src/websocket/options.ts,
// SocketSettings.clients), instead of through a listener of the library's on every socket: user
// code sees no listener it did not add, and removing every listener cannot keep a closed socket in
// the set.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, waitFor } from '../helpers.ts';

const WAIT_MS = 20_000;

checkNothingLeaksAfterEach({ fds: true });

async function listening(
  options: { clientTracking?: boolean } = {},
): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  return { wss, url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}` };
}

async function closeServer(wss: WebSocketServer): Promise<void> {
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}

describe('WebSocketServer.clients', () => {
  it("holds a socket from 'connection' until its 'close', with no listener on the socket of the library's", async () => {
    const { wss, url } = await listening();
    const seen: string[] = [];
    let server: WebSocket | null = null;
    wss.on('connection', (ws: WebSocket) => {
      server = ws;
      seen.push(
        `connection: in clients ${wss.clients.has(ws)}, close listeners ${ws.listenerCount('close')}`,
      );
      ws.on('close', () => seen.push(`close: in clients ${wss.clients.has(ws)}, size ${wss.clients.size}`));
    });
    const client = new WebSocket(url);
    await once(client, 'open');
    await waitFor(() => server !== null, WAIT_MS, 'the server side');
    expect(wss.clients.size).toBe(1);
    client.close(1000);
    await once(client, 'close');
    await waitFor(() => seen.length === 2, WAIT_MS, "the server side's 'close'");
    expect(seen).toEqual([
      'connection: in clients true, close listeners 0',
      'close: in clients false, size 0',
    ]);
    await closeServer(wss);
  });

  it('lets a socket go after removeAllListeners(), and after terminate() from either side', async () => {
    const { wss, url } = await listening();
    const servers: WebSocket[] = [];
    wss.on('connection', (ws: WebSocket) => {
      servers.push(ws);
      ws.removeAllListeners(); // in ws this also removed the server's own untracking listener
    });
    const clients = [new WebSocket(url), new WebSocket(url), new WebSocket(url)];
    await Promise.all(clients.map((ws) => once(ws, 'open')));
    await waitFor(() => wss.clients.size === 3, WAIT_MS, 'three server-side sockets');

    servers[0]!.close(1000); // a close handshake the server starts
    servers[1]!.terminate(); // the server drops it
    clients[2]!.terminate(); // the peer vanishes
    await waitFor(() => wss.clients.size === 0, WAIT_MS, 'every socket out of clients');
    expect(servers.every((ws) => ws.readyState === WebSocket.CLOSED)).toBe(true);
    await Promise.all(
      clients.map((ws) => (ws.readyState === WebSocket.CLOSED ? Promise.resolve() : once(ws, 'close'))),
    );
    await closeServer(wss);
  });

  it('is undefined with clientTracking false, and closing sockets then is harmless', async () => {
    const { wss, url } = await listening({ clientTracking: false });
    expect(wss.clients).toBeUndefined();
    let closed = false;
    wss.on('connection', (ws: WebSocket) => ws.on('close', () => (closed = true)));
    const client = new WebSocket(url);
    await once(client, 'open');
    client.close(1000);
    await once(client, 'close');
    await waitFor(() => closed, WAIT_MS, "the server side's 'close'");
    await closeServer(wss);
  });
});
