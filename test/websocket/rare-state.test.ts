// The state a WebSocket makes on first use (src/websocket/rare-state.ts): send callbacks waiting
// for 'drain', the close handshake's code and reason, the count of dropped messages and a
// client's URL. Each is exercised on a socket that sat idle with none of it made yet, and used
// twice where it is reset in between (the drain callbacks), so a lazily made or reset list that
// lost an entry or kept a stale one would show. websocket-heap.test.ts pins that idle sockets do
// not carry it.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type ServerOptions } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';
import { deferCleanups } from './batch-fixtures.ts';

const WAIT_MS = 20_000;
const CHUNK = randomBytes(64 * 1024);
/** Sends queued past the first one the kernel refused: 2 MiB, more than it takes meanwhile. */
const QUEUED = 32;

checkNothingLeaksAfterEach({ fds: true });
const cleanups = deferCleanups();

/** A server and one of our clients connected to it; resolves once both sides are open. */
async function connectedPair(
  options: ServerOptions = {},
  path = '/',
): Promise<{ server: WebSocket; client: WebSocket; url: string }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  cleanups.push(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}${path}`;
  const client = new WebSocket(url);
  cleanups.push(() => client.terminate());
  await new Promise((resolve) => client.once('open', resolve));
  return { server: await accepted, client, url };
}

/**
 * Sends CHUNKs with callbacks that log `label` and their send's number until the kernel stops
 * taking them and `extra` more are queued; returns how many were sent.
 */
function sendUntilQueued(ws: WebSocket, log: string[], label: string, extra: number): number {
  let sent = 0;
  let queuedFrom = -1;
  while (queuedFrom < 0 || sent < queuedFrom + extra) {
    const n = sent++;
    const callback = (error?: Error) =>
      log.push(`${label}${n} ${error ? (error as { code?: string }).code : 'ok'}`);
    expect(ws.send(CHUNK, callback)).not.toBe('dropped');
    if (queuedFrom < 0 && ws.bufferedAmount > 0) queuedFrom = sent;
    if (sent > 2000) throw new Error('the kernel took 128 MiB from a client that does not read');
  }
  return sent;
}

describe('state a socket makes on first use', () => {
  it("send callbacks wait for 'drain' and run in send order, again after the list was emptied", async () => {
    const { server, client } = await connectedPair();
    const log: string[] = [];
    server.on('drain', () => log.push('drain'));
    let received = 0;
    client.on('message', () => received++);

    for (const round of ['a', 'b']) {
      client.pause(); // the kernel buffers fill, then the server's queue
      const sent = sendUntilQueued(server, log, round, QUEUED);
      await turns(3);
      const callbacks = log.filter((entry) => entry.startsWith(round));
      // The callbacks of queued sends wait for the queue to leave, which the paused reader blocks.
      expect(callbacks.length).toBeLessThan(sent);
      client.resume();
      await waitFor(
        () => log.filter((entry) => entry.startsWith(round)).length === sent,
        WAIT_MS,
        'every callback',
      );
      expect(log.filter((entry) => entry.startsWith(round))).toEqual(
        Array.from({ length: sent }, (_, i) => `${round}${i} ok`),
      );
      await waitFor(() => log.at(-1) === 'drain', WAIT_MS, "'drain' after the callbacks");
    }
    await waitFor(() => server.bufferedAmount === 0, WAIT_MS, 'the queue to empty');
    expect(received).toBeGreaterThan(0);
  });

  it("send callbacks still waiting at terminate() fail with WS_ERR_NOT_OPEN, in order, before 'close'", async () => {
    const { server, client } = await connectedPair();
    client.pause();
    const log: string[] = [];
    const sent = sendUntilQueued(server, log, 's', QUEUED);
    await turns(3);
    const early = log.length; // the sends the kernel took at once reported success already
    expect(early).toBeLessThan(sent);
    expect(log).toEqual(Array.from({ length: early }, (_, i) => `s${i} ok`));
    server.on('close', (code: number) => log.push(`close ${code}`));
    server.terminate();
    await waitFor(() => log.length === sent + 1, WAIT_MS, "the callbacks and 'close'");
    expect(log.slice(early)).toEqual([
      ...Array.from({ length: sent - early }, (_, i) => `s${early + i} WS_ERR_NOT_OPEN`),
      'close 1006',
    ]);
  });

  it("the close handshake reports both sides' code and reason, and a clean close", async () => {
    const { server, client } = await connectedPair();
    const closes: string[] = [];
    server.on('close', (code: number, reason: Buffer) => closes.push(`server ${code} ${reason.toString()}`));
    client.addEventListener('close', (event) => {
      const { code, reason, wasClean } = event as unknown as {
        code: number;
        reason: string;
        wasClean: boolean;
      };
      closes.push(`client ${code} ${reason} ${wasClean}`);
    });
    client.close(4001, 'bye');
    await waitFor(() => closes.length === 2, WAIT_MS, "both 'close' events");
    expect(closes.sort()).toEqual(['client 4001 bye true', 'server 4001 bye']);
    expect([server.readyState, client.readyState]).toEqual([WebSocket.CLOSED, WebSocket.CLOSED]);
  });

  it('droppedMessages counts each send dropped at maxBufferedBytes; a client keeps its URL', async () => {
    const { server, client, url } = await connectedPair({ maxBufferedBytes: 256 * 1024 }, '/room?x=1');
    expect(client.url).toBe(url);
    expect(server.url).toBe('');
    expect(server.droppedMessages).toBe(0);
    client.pause();
    let accepted = 0;
    while (server.send(CHUNK) !== 'dropped') {
      accepted++;
      if (accepted > 2000) throw new Error('nothing was dropped after 128 MiB');
    }
    expect(server.droppedMessages).toBe(1);
    expect([server.send(CHUNK), server.send(CHUNK)]).toEqual(['dropped', 'dropped']);
    expect(server.droppedMessages).toBe(3);
    client.resume();
    await waitFor(() => server.bufferedAmount === 0, WAIT_MS, 'the queue to empty');
    expect(server.droppedMessages).toBe(3);
  });
});
