// The buffer a connection assembles messages in is lent between reads: a connection that goes
// idle after a message keeps no buffer sized for it, while the next message (on any connection of
// the thread) still finds one with room. Measured through glibc malloc's bytes in use
// (native.mallocStats()); under the sanitizers malloc is not glibc's and the bound is not checked.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { native } from '../../src/native.ts';
import { turns, waitFor } from '../helpers.ts';
import { collectUntil } from '../leaks/gc.ts';

const CONNECTIONS = 200;
const MESSAGE_BYTES = 32 * 1024; // copied to JavaScript (not handed over), so it was kept before

let servers: WebSocketServer[] = [];
let clients: WebSocket[] = [];
afterEach(async () => {
  for (const ws of clients) ws.terminate();
  clients = [];
  for (const wss of servers) await new Promise<void>((resolve) => wss.close(() => resolve()));
  servers = [];
});

async function settledMalloc(): Promise<number> {
  await collectUntil(() => false, 4);
  await turns(3);
  return native.mallocStats().inUse;
}

describe('the message assembly buffer', () => {
  it('is not kept by idle connections: 200 that each got a 32 KiB message grow malloc by little', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', backlog: 512 });
    servers.push(wss);
    const received: number[] = [];
    wss.on('connection', (ws) => ws.on('message', (data: Buffer) => received.push(data.length)));
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`;
    clients = Array.from({ length: CONNECTIONS }, () => new WebSocket(url));
    await Promise.all(clients.map((ws) => new Promise((resolve) => ws.once('open', resolve))));
    await waitFor(() => wss.clients.size === CONNECTIONS, 10_000, 'every server-side socket');
    // One message through first, so the thread's spare buffer exists before the baseline.
    clients[0]!.send(Buffer.alloc(MESSAGE_BYTES, 1));
    await waitFor(() => received.length === 1, 10_000, 'the first message');
    const before = await settledMalloc();

    const payload = Buffer.alloc(MESSAGE_BYTES, 7);
    for (const ws of clients) ws.send(payload);
    await waitFor(() => received.length === CONNECTIONS + 1, 20_000, 'every message');
    const growthPerConnection = ((await settledMalloc()) - before) / CONNECTIONS;

    expect(received.every((length) => length === MESSAGE_BYTES)).toBe(true);
    if (!native.sanitizerBuild) {
      // Each server-side connection kept a 32 KiB buffer before; now what grows is the send side's
      // and libevent's bookkeeping, well under one message.
      expect(growthPerConnection).toBeLessThan(MESSAGE_BYTES / 4);
    }
    // The connections still assemble messages: a second round arrives whole.
    for (const ws of clients) ws.send(payload);
    await waitFor(() => received.length === 2 * CONNECTIONS + 1, 20_000, 'the second round');
    expect(received.every((length) => length === MESSAGE_BYTES)).toBe(true);
  });
});
