// API edges of the ws-compatible surface: aborting a connecting client, numbers sent as text, and a
// WebSocketServer on a Listener lent by the user.
import { afterEach, describe, expect, it } from 'vitest';
import WsClient from 'ws';
import { Listener } from '../../src/index.ts';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';

checkNothingLeaksAfterEach({ fds: true });

let servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers) server.close();
  servers = [];
  await turns(3);
});

async function echoServer(): Promise<number> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(server);
  server.on('connection', (ws) =>
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })),
  );
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as { port: number }).port;
}

describe('a client closed while connecting', () => {
  it('reports one WS_ERR_CLOSED_BEFORE_OPEN error and one close 1006', async () => {
    const port = await echoServer();
    const client = new WebSocket(`ws://127.0.0.1:${port}/`);
    const events: string[] = [];
    client.on('error', (error: { code?: string }) => events.push(`error ${error.code}`));
    client.on('close', (code: number) => events.push(`close ${code}`));
    client.close();
    await waitFor(() => events.length >= 2);
    await turns(5);
    expect(events).toEqual(['error WS_ERR_CLOSED_BEFORE_OPEN', 'close 1006']);
    expect(client.readyState).toBe(WebSocket.CLOSED);
  });
});

describe('send(number)', () => {
  it('sends the number as a text message, as ws does', async () => {
    const port = await echoServer();
    const client = new WsClient(`ws://127.0.0.1:${port}/`);
    await new Promise((resolve) => client.once('open', resolve));
    const server = servers[0]!;
    const [ws] = [...server.clients];
    const received = new Promise<[string, boolean]>((resolve) =>
      client.once('message', (data, isBinary) => resolve([String(data), isBinary])),
    );
    ws!.send(42);
    expect(await received).toEqual(['42', false]);
    client.close();
    await waitFor(() => server.clients.size === 0);
  });
});

describe('the listener option', () => {
  it("emits 'listening', serves the lent listener, and stops serving it after close()", async () => {
    const listener = Listener.listen({ host: '127.0.0.1', port: 0 }, () => {});
    try {
      const server = new WebSocketServer({ listener });
      servers.push(server);
      await new Promise((resolve) => server.once('listening', resolve));
      const port = listener.address.port;
      const connections: unknown[] = [];
      server.on('connection', (ws) => connections.push(ws));
      const first = new WsClient(`ws://127.0.0.1:${port}/`);
      await new Promise((resolve) => first.once('open', resolve));
      expect(connections).toHaveLength(1);
      first.close();
      await waitFor(() => server.clients.size === 0);
      server.close();
      const second = new WsClient(`ws://127.0.0.1:${port}/`);
      const outcome = await new Promise<string>((resolve) => {
        second.once('open', () => resolve('open'));
        second.once('error', () => resolve('refused'));
      });
      await new Promise((resolve) =>
        second.readyState === WsClient.CLOSED ? resolve(null) : second.once('close', resolve),
      );
      expect(outcome).toBe('refused');
      expect(connections).toHaveLength(1);
    } finally {
      listener.close();
    }
  });
});
