// A WebSocket takes its socket bufferevent over when it opens: the native connection owns the
// bufferevent from then on and the bufferevent's JavaScript objects are no longer kept (an idle
// connection is cheaper without them). These tests collect garbage while connections are open and
// check that nothing the connections need went with it, and that every way a connection ends
// frees the bufferevent it took over.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { EventBase } from '../../src/index.ts';
import { liveCounts, waitFor } from '../helpers.ts';
import { collectUntil } from '../leaks/gc.ts';

const CONNECTIONS = 20;

let servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const wss of servers) await new Promise<void>((resolve) => wss.close(() => resolve()));
  servers = [];
});

async function echoServer(): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(wss);
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  return { wss, url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/` };
}

async function openClients(url: string, count: number): Promise<WebSocket[]> {
  const clients = Array.from({ length: count }, () => new WebSocket(url));
  await Promise.all(clients.map((ws) => new Promise((resolve) => ws.once('open', resolve))));
  return clients;
}

/** Collections with loop turns between them, so finalizers of anything unreachable run. */
const collectGarbage = () => collectUntil(() => false, 6);

function counts() {
  return { ...liveCounts(), webSockets: EventBase.default().stats().liveWebSockets };
}

describe('a WebSocket owns the bufferevent it took over', () => {
  it('connections keep working on both sides after garbage collections', async () => {
    const { wss, url } = await echoServer();
    const clients = await openClients(url, CONNECTIONS);
    await waitFor(() => wss.clients.size === CONNECTIONS, 10_000, 'every server-side socket');
    await collectGarbage();

    const echoes = clients.map(
      (ws, index) =>
        new Promise<string[]>((resolve) => {
          const got: string[] = [];
          ws.on('message', (data) => {
            got.push(String(data));
            if (got.length === 3) resolve(got);
          });
          for (let n = 0; n < 3; n++) ws.send(`client ${index} message ${n}`);
        }),
    );
    const received = await Promise.all(echoes);
    received.forEach((got, index) =>
      expect(got).toEqual([0, 1, 2].map((n) => `client ${index} message ${n}`)),
    );
    await collectGarbage();

    const pongs = clients.map(
      (ws) => new Promise<string>((resolve) => ws.once('pong', (data) => resolve(String(data)))),
    );
    clients.forEach((ws, index) => ws.ping(`ping ${index}`));
    expect(await Promise.all(pongs)).toEqual(clients.map((_, index) => `ping ${index}`));

    const closes = clients.map(
      (ws) =>
        new Promise<[number, string]>((resolve) =>
          ws.once('close', (code, reason) => resolve([code, String(reason)])),
        ),
    );
    for (const ws of clients) ws.close(4001, 'done');
    expect(await Promise.all(closes)).toEqual(clients.map(() => [4001, 'done']));
  });

  it('every way a connection ends frees its bufferevent: close, terminate, a vanished peer', async () => {
    const { wss, url } = await echoServer();
    // Warm-up: the server's own objects exist before the baseline is taken.
    for (const ws of await openClients(url, 1)) ws.terminate();
    await waitFor(() => wss.clients.size === 0, 10_000, 'the warm-up connection to end');
    await collectGarbage();
    const before = counts();

    // One at a time, so that serverSides[i] is the other end of clients[i].
    const clients: WebSocket[] = [];
    const serverSides: WebSocket[] = [];
    wss.on('connection', (ws) => serverSides.push(ws));
    for (let i = 0; i < 3 * CONNECTIONS; i++) {
      clients.push(...(await openClients(url, 1)));
      await waitFor(() => serverSides.length === i + 1, 10_000, 'the server-side socket');
    }
    await collectGarbage();
    expect(counts().bufferevents).toBe(before.bufferevents + 2 * 3 * CONNECTIONS);

    clients.slice(0, CONNECTIONS).forEach((ws) => ws.close(1000)); // the close handshake
    serverSides.slice(CONNECTIONS, 2 * CONNECTIONS).forEach((ws) => ws.terminate()); // server drops TCP
    clients.slice(2 * CONNECTIONS).forEach((ws) => ws.terminate()); // the peer vanishes
    await waitFor(() => wss.clients.size === 0, 10_000, 'every server-side close');
    await waitFor(
      () => clients.every((ws) => ws.readyState === WebSocket.CLOSED),
      10_000,
      'every client-side close',
    );
    await collectUntil(() => counts().bufferevents === before.bufferevents, 50);
    expect(counts()).toEqual(before);
  });
});
