// Batched delivery under adversarial use: message views kept while the receive pool is replaced
// many times over, listeners of one connection closing or writing to others (and the server)
// while those have reads pending, pause() with close(), terminate() and resume() races, a peer
// that keeps sending while paused (nothing is read: the sender's queue grows instead), and a
// worker whose server is terminated mid-traffic.
import { Worker } from 'node:worker_threads';
import WsClient from 'ws';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { runChild } from '../loop/child.ts';
import { checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';
import { RawClient, WAIT_MS, closeCodeOf, frames } from './conformance/raw-client.ts';
import { deferCleanups } from './batch-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

const cleanups = deferCleanups();

async function serverWith(
  onConnection: (ws: WebSocket, server: WebSocketServer) => void,
): Promise<{ server: WebSocketServer; port: number; sockets: WebSocket[] }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const sockets: WebSocket[] = [];
  server.on('connection', (ws: WebSocket) => {
    sockets.push(ws);
    onConnection(ws, server);
  });
  cleanups.push(async () => {
    for (const ws of server.clients) ws.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

async function rawClients(port: number, sockets: WebSocket[], count: number): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  for (let i = 0; i < count; i++) {
    const client = await RawClient.open(port);
    cleanups.push(() => client.destroy());
    clients.push(client);
    await waitFor(() => sockets.length === i + 1, WAIT_MS, `connection ${i}`);
  }
  return clients;
}

/** Message `i`: its number, then a pattern of it, 4 to ~300 bytes. */
function payloadOf(i: number, size = 4 + ((i * 37) % 300)): Buffer {
  const payload = Buffer.alloc(size);
  for (let k = 4; k < size; k++) payload[k] = (i * 13 + k * 7) & 0xff;
  payload.writeUInt32BE(i, 0);
  return payload;
}

describe('the receive pool', () => {
  it('keeps 1000 early messages intact through 5 MB more traffic and pool sizes around the limits', async () => {
    const kept: Buffer[] = [];
    const numbers: number[] = [];
    const { port, sockets } = await serverWith((ws) =>
      ws.on('message', (data: Buffer) => {
        numbers.push(data.readUInt32BE(0));
        if (kept.length < 1000) kept.push(data);
      }),
    );
    const [client] = await rawClients(port, sockets, 1);
    const sizes: number[] = [];
    for (let i = 0; i < 1000; i++) sizes.push(4 + ((i * 37) % 300));
    // Then batches of medium messages, and the sizes on either side of the per-message and the
    // per-batch limits (16 KiB, 64 KiB), so the pool is replaced several hundred times.
    for (let i = 0; i < 2000; i++) sizes.push(2000);
    for (const size of [16383, 16384, 16385, 65535, 65536, 65537, 4, 16384, 16384, 16384, 16384, 16384])
      sizes.push(size);
    for (let i = 0; i < 1500; i++) sizes.push(1 + ((i * 5000) % 16384) + 4);
    let next = 0;
    while (next < sizes.length) {
      const chunk: Buffer[] = [];
      for (let n = 0; n < 120 && next < sizes.length; n++, next++) {
        chunk.push(frames.binary(payloadOf(next, sizes[next])));
      }
      await client!.send(Buffer.concat(chunk));
    }
    await waitFor(() => numbers.length === sizes.length, WAIT_MS, 'every message');
    expect(numbers).toEqual(sizes.map((_, i) => i));
    expect(kept).toHaveLength(1000);
    kept.forEach((data, i) => expect(data.equals(payloadOf(i))).toBe(true));
  });
});

describe('listeners acting on other connections', () => {
  it('terminate(), close() and send() on connections with reads pending, then server.close(): order kept, no crash', async () => {
    const seen: string[][] = [[], [], [], []];
    let actor: WebSocket | null = null;
    const { server, port, sockets } = await serverWith((ws) => {
      const me = sockets.length - 1;
      ws.on('message', (data: Buffer) => {
        seen[me]!.push(data.toString());
        if (ws !== actor || data.toString() !== 'a5') return;
        sockets[1]!.terminate();
        sockets[2]!.close(4000, 'from a');
        sockets[3]!.send('to d');
        sockets[3]!.cork(() => sockets[2]!.cork(() => sockets[3]!.send('corked to d')));
        server.close();
      });
    });
    const clients = await rawClients(port, sockets, 4);
    actor = sockets[0]!;
    const many = (prefix: string) =>
      Buffer.concat(Array.from({ length: 50 }, (_, i) => frames.text(`${prefix}${i}`)));
    // Every client's read is pending in the same pass, or close to it.
    await Promise.all(clients.map((client, i) => client.send(many('abcd'[i]!))));
    await waitFor(() => seen[0]!.length === 50, WAIT_MS, "the actor's messages");
    expect(seen[0]).toEqual(Array.from({ length: 50 }, (_, i) => `a${i}`));
    // The terminated one saw a prefix of its messages, in order; the closed one all of them (ws).
    for (const list of seen.slice(1)) {
      expect(list).toEqual(Array.from({ length: list.length }, (_, i) => `${list[0]?.[0]}${i}`));
    }
    await waitFor(() => seen[2]!.length === 50, WAIT_MS, "the closed socket's messages");
    const dMessages = await clients[3]!.readMessages(2);
    expect(dMessages.map((message) => message.data.toString())).toEqual(['to d', 'corked to d']);
    const closeFrame = await clients[2]!.waitForCloseFrame();
    expect(closeCodeOf(closeFrame)).toBe(4000);
    expect(await clients[1]!.waitForTcpClose()).toBeDefined();
  });
});

describe('pause() races', () => {
  it('terminate() while messages are held: none is delivered after it, resume() after CLOSED is a no-op', async () => {
    const events: string[] = [];
    const { port, sockets } = await serverWith((ws) => {
      ws.on('message', (data: Buffer) => {
        events.push(data.toString());
        if (data.toString() === 'm1') ws.pause();
      });
      ws.on('close', (code: number) => events.push(`close ${code}`));
    });
    const [client] = await rawClients(port, sockets, 1);
    await client!.send(Buffer.concat([1, 2, 3, 4, 5].map((n) => frames.text(`m${n - 1}`))));
    await waitFor(() => events.length === 2, WAIT_MS, 'up to the pause');
    sockets[0]!.resume();
    sockets[0]!.terminate();
    for (let i = 0; i < 5; i++) sockets[0]!.resume();
    await waitFor(() => events.length === 3, WAIT_MS, "'close'");
    await turns(10);
    expect(events).toEqual(['m0', 'm1', 'close 1006']);
  });

  it('resume() called many times delivers each held message once, in order, and reading resumes once', async () => {
    const events: string[] = [];
    const { port, sockets } = await serverWith((ws) => {
      ws.on('message', (data: Buffer) => {
        events.push(data.toString());
        if (data.toString() === 'm0') ws.pause();
        // Resumed again from inside the held delivery.
        if (data.toString() === 'm3') for (let i = 0; i < 10; i++) ws.resume();
      });
      ws.on('ping', () => events.push('ping'));
    });
    const [client] = await rawClients(port, sockets, 1);
    const batch = Array.from({ length: 8 }, (_, i) => frames.text(`m${i}`));
    batch.splice(4, 0, frames.ping('x'));
    await client!.send(Buffer.concat(batch));
    await waitFor(() => events.length === 1, WAIT_MS, 'm0');
    for (let i = 0; i < 50; i++) sockets[0]!.resume();
    await waitFor(() => events.length === 9, WAIT_MS, 'the held ones');
    await client!.send(frames.text('after'));
    await waitFor(() => events.length === 10, WAIT_MS, 'a later read');
    await turns(10);
    expect(events).toEqual(['m0', 'm1', 'm2', 'm3', 'ping', 'm4', 'm5', 'm6', 'm7', 'after']);
  });

  it("a held close frame: nothing answered while paused; resume() delivers the rest, then 'close' with the peer's code", async () => {
    const events: string[] = [];
    const { port, sockets } = await serverWith((ws) => {
      ws.on('message', (data: Buffer) => {
        events.push(data.toString());
        if (data.toString() === 'm0') ws.pause();
      });
      ws.on('close', (code: number) => events.push(`close ${code}`));
    });
    const [client] = await rawClients(port, sockets, 1);
    await client!.send(Buffer.concat([frames.text('m0'), frames.text('m1'), frames.close(4001)]));
    await waitFor(() => events.length === 1, WAIT_MS, 'm0');
    await turns(20);
    expect(sockets[0]!.readyState).toBe(WebSocket.OPEN);
    expect(client!.unread.length).toBe(0);
    sockets[0]!.resume();
    const closeFrame = await client!.waitForCloseFrame();
    expect(closeCodeOf(closeFrame)).toBe(4001);
    await waitFor(() => events.length === 3, WAIT_MS, "'close'");
    expect(events).toEqual(['m0', 'm1', 'close 4001']);
  });

  it('close() while messages are held: they still come after resume(), and the handshake completes', async () => {
    const events: string[] = [];
    const { port, sockets } = await serverWith((ws) => {
      ws.on('message', (data: Buffer) => {
        events.push(data.toString());
        if (data.toString() === 'm0') ws.pause();
      });
      ws.on('close', (code: number) => events.push(`close ${code}`));
    });
    const [client] = await rawClients(port, sockets, 1);
    await client!.send(Buffer.concat([frames.text('m0'), frames.text('m1'), frames.text('m2')]));
    await waitFor(() => events.length === 1, WAIT_MS, 'm0');
    sockets[0]!.close(4002);
    expect(closeCodeOf(await client!.waitForCloseFrame())).toBe(4002);
    await client!.send(frames.close(4002));
    sockets[0]!.resume();
    await waitFor(() => events.length === 4, WAIT_MS, "the held messages and 'close'");
    expect(events).toEqual(['m0', 'm1', 'm2', 'close 4002']);
  });

  it("a protocol error held behind paused messages: after resume(), the messages, then 'error', 1002 and 'close'", async () => {
    const events: string[] = [];
    const { port, sockets } = await serverWith((ws) => {
      ws.on('message', (data: Buffer) => {
        events.push(data.toString());
        if (data.toString() === 'm0') ws.pause();
      });
      ws.on('error', (error: Error & { code?: string }) => events.push(`error ${error.code}`));
      ws.on('close', (code: number) => events.push(`close ${code}`));
    });
    const [client] = await rawClients(port, sockets, 1);
    // A reserved opcode (3) is a protocol error.
    const bad = Buffer.from([0x83, 0x80, 0, 0, 0, 0]);
    await client!.send(Buffer.concat([frames.text('m0'), frames.text('m1'), bad, frames.text('never')]));
    await waitFor(() => events.length === 1, WAIT_MS, 'm0');
    await turns(10);
    expect(client!.unread.length).toBe(0); // nothing answered while the error is held
    sockets[0]!.resume();
    expect(closeCodeOf(await client!.waitForCloseFrame())).toBe(1002);
    client!.destroy();
    await waitFor(() => events.length === 4, WAIT_MS, "'close'");
    expect(events.slice(0, 2)).toEqual(['m0', 'm1']);
    expect(events[2]).toMatch(/^error WS_ERR_/);
    expect(events[3]).toBe('close 1002');
  });

  it('a peer that keeps sending while paused is not read: its own queue grows, the server delivers nothing', async () => {
    const received: number[] = [];
    const { port } = await serverWith((ws) => {
      ws.on('message', (data: Buffer) => {
        received.push(data.readUInt32BE(0));
        if (received.length === 1) ws.pause();
      });
    });
    const peer = new WsClient(`ws://127.0.0.1:${port}`);
    cleanups.push(() => peer.terminate());
    await new Promise((resolve, reject) => peer.once('open', resolve).once('error', reject));
    const big = 64 * 1024;
    let sent = 0;
    // At most 64 MB: were the server reading, bufferedAmount would stay small and all would go.
    while (sent < 1024 && peer.bufferedAmount < 8 * 1024 * 1024) {
      peer.send(payloadOf(sent, sent % 2 === 0 ? big : 100));
      sent++;
      if (sent % 16 === 0) await turns(1);
    }
    await turns(20);
    expect(peer.bufferedAmount).toBeGreaterThan(1024 * 1024);
    expect(sent).toBeLessThan(1024);
    expect(received.length).toBeLessThanOrEqual(2);
  });
});

describe('cork() with the socket closing inside', () => {
  it('terminate() inside: what was sent first still leaves, then the TCP close; uncorking a released socket is a no-op', async () => {
    const { port, sockets } = await serverWith(() => {});
    const [client] = await rawClients(port, sockets, 1);
    const ws = sockets[0]!;
    const result = ws.cork(() => {
      ws.send('a');
      ws.send('b');
      ws.terminate();
      return 'returned';
    });
    expect(result).toBe('returned');
    const { bytes } = await client!.readUntilTcpClose();
    expect(bytes).toEqual(Buffer.from([0x81, 1, 0x61, 0x81, 1, 0x62]));
  });

  it("close() inside: the frames before it, the close frame, nothing after; cork() in 'close' just runs", async () => {
    const { port, sockets } = await serverWith(() => {});
    const [client] = await rawClients(port, sockets, 1);
    const ws = sockets[0]!;
    const errors: string[] = [];
    let inClose: unknown;
    ws.on('close', () => (inClose = ws.cork(() => 'ran in close')));
    ws.cork(() => {
      ws.send('a');
      ws.close(4000);
      ws.send('b', (error) => errors.push(error ? 'failed' : 'sent'));
    });
    const closeFrame = await client!.waitForCloseFrame();
    expect(closeFrame.before.map((message) => message.data.toString())).toEqual(['a']);
    expect(closeCodeOf(closeFrame)).toBe(4000);
    await client!.send(frames.close(4000));
    await waitFor(() => inClose !== undefined, WAIT_MS, "'close'");
    expect(inClose).toBe('ran in close');
    expect(errors).toEqual(['failed']);
  });
});

describe('listeners that always throw (in a child, with an uncaughtException handler)', () => {
  it("'message', 'ping' and 'close' throwing every time: each event once, in order, each exception once, and an end", async () => {
    const result = await runChild('../../websocket/fixtures/throwing-everywhere.mjs', [], 20_000);
    expect(result.stderr).toBe('');
    const outcome = JSON.parse(result.stdout.trim()) as Record<string, string[]>;
    const m = Array.from({ length: 10 }, (_, i) => `m${i}`);
    const n = Array.from({ length: 5 }, (_, i) => `n${i}`);
    const events = [...m, 'ping', ...n, 'after'];
    expect(outcome.delivered).toEqual([...events, 'close 1000']);
    expect(outcome.uncaught).toEqual([
      ...events.map((event) => (event === 'ping' ? 'ping' : `message ${event}`)),
      'close',
    ]);
    // The pong answers the ping when it is parsed, which may be before the messages held ahead of
    // it are delivered; the replies keep their order, and the close frame comes last.
    expect(outcome.frames!.filter((frame) => frame !== 'pong p')).toEqual([
      ...[...m, ...n, 'after'].map((text) => `echo ${text}`),
      'op8',
    ]);
    expect(outcome.frames!.filter((frame) => frame === 'pong p')).toHaveLength(1);
  });
});

describe('a worker thread running a WebSocket server', () => {
  it('terminated mid-traffic: no crash, and this thread serves on', async () => {
    const worker = new Worker(new URL('./fixtures/ws-server-worker.mjs', import.meta.url));
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const { port } = await new Promise<{ port: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const peers = Array.from({ length: 4 }, () => new WsClient(`ws://127.0.0.1:${port}`));
    cleanups.push(() => peers.forEach((peer) => peer.terminate()));
    await Promise.all(peers.map((peer) => new Promise((resolve) => peer.once('open', resolve))));
    let echoes = 0;
    peers.forEach((peer) => peer.on('message', () => echoes++));
    peers.forEach((peer) => peer.on('error', () => {}));
    const pump = setInterval(() => {
      for (const peer of peers) {
        if (peer.readyState !== WsClient.OPEN) continue;
        for (let i = 0; i < 50; i++) peer.send(payloadOf(i));
      }
    }, 1);
    cleanups.push(() => clearInterval(pump));
    await waitFor(() => echoes > 2000, WAIT_MS, 'traffic through the worker');
    expect(await worker.terminate()).toBe(1);
    await exited;
    clearInterval(pump);

    const events: string[] = [];
    const { port: mainPort } = await serverWith((ws) =>
      ws.on('message', (data: Buffer) => events.push(data.toString())),
    );
    const peer = new WsClient(`ws://127.0.0.1:${mainPort}`);
    cleanups.push(() => peer.terminate());
    await new Promise((resolve) => peer.once('open', resolve));
    peer.send('still here');
    await waitFor(() => events.length === 1, WAIT_MS, 'a message on the main thread');
    expect(events).toEqual(['still here']);
  });
});
