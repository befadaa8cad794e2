// Contexts with takeover parked while idle: after parking, each end keeps only a copy of its
// window, and the next message restores it, so the stream goes on exactly as if the contexts had
// been kept. Checked against ws (whose contexts are never parked) in both directions with
// messages that refer back into the window across the park, against our own client, by the memory
// given back, and by the sweep's timer, which never keeps the process alive.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WS, { WebSocketServer as WsServer } from 'ws';
import { EventBase } from '../../../src/index.ts';
import { native } from '../../../src/native.ts';
import { WebSocket, WebSocketServer } from '../../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, waitFor } from '../../helpers.ts';

checkNothingLeaksAfterEach({ fds: true });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A message whose second sending compresses to little but references into the first. */
function phrase(seed: number): string {
  return randomBytes(1500).toString('base64') + `#${seed}`;
}

async function ourEchoServer(perMessageDeflate: object | boolean = true): Promise<number> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  server.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const ws of server.clients) ws.terminate();
        server.close(() => resolve());
      }),
  );
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

/** What exchange() needs of a client, ours or ws's. */
interface TextPeer {
  on(event: 'message', listener: (data: Buffer) => void): unknown;
  off(event: 'message', listener: (data: Buffer) => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
  send(text: string): unknown;
}

/** Sends each text and resolves with the echoes, in order. */
function exchange(client: TextPeer, texts: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const got: string[] = [];
    const onMessage = (data: Buffer) => {
      got.push(data.toString());
      if (got.length === texts.length) {
        client.off('message', onMessage);
        resolve(got);
      }
    };
    client.on('message', onMessage);
    client.once('error', reject);
    for (const text of texts) client.send(text);
  });
}

describe('parking contexts with takeover', () => {
  it('ws client ↔ our server: messages referring into the window before the park come through intact', async () => {
    const port = await ourEchoServer();
    const client = new WS(`ws://127.0.0.1:${port}/`, { perMessageDeflate: { threshold: 0 } });
    cleanups.push(() => client.terminate());
    await once(client, 'open');
    expect(client.extensions).toMatch(/permessage-deflate/);
    const first = [phrase(1), phrase(2)];
    expect(await exchange(client, first)).toEqual(first);
    const contexts = native.wsZlibContexts(0);
    expect(contexts.parked).toBe(2); // the server's compressor and decompressor
    expect(contexts.held).toBe(0);
    // The same phrases again: both directions compress them as references into the window.
    const again = [first[1]!, first[0]!, phrase(3), first[1]!];
    expect(await exchange(client, again)).toEqual(again);
    expect(native.wsZlibContexts().held).toBe(2);
  });

  it('our client ↔ our server, parked again and again between messages, with small windows too', async () => {
    for (const options of [true, { serverMaxWindowBits: 10, clientMaxWindowBits: 9 }]) {
      const port = await ourEchoServer(options);
      const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: options });
      cleanups.push(() => client.terminate());
      await once(client, 'open');
      const phrases = [phrase(1), phrase(2), phrase(3)];
      for (let round = 0; round < 6; round++) {
        const texts = [phrases[round % 3]!, phrases[(round + 1) % 3]!];
        expect(await exchange(client, texts)).toEqual(texts);
        // Both ends live in this process: four codecs are parked each time.
        expect(native.wsZlibContexts(0).parked).toBe(4);
      }
      client.close();
      await once(client, 'close');
    }
  });

  it('never parks a context in the middle of a message', async () => {
    const port = await ourEchoServer();
    const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true });
    cleanups.push(() => client.terminate());
    await once(client, 'open');
    // Large enough for zlib to emit part of the message before its end.
    const head = randomBytes(120_000).toString('base64');
    const tail = phrase(2);
    expect(await exchange(client, [tail])).toEqual([tail]);
    const echoed = new Promise<string>((resolve) => client.once('message', (data) => resolve(String(data))));
    client.send(head, { fin: false });
    // The server's decompressor has the first fragment once a ping sent after it is answered.
    client.ping();
    await once(client, 'pong');
    // Only the server's compressor is between messages; the client's compressor and the server's
    // decompressor are inside one, and the client's decompressor has been parked just before.
    expect(native.wsZlibContexts(0).parked).toBe(2);
    client.send(tail, { fin: true });
    expect(await echoed).toBe(head + tail);
  });

  it('our client ↔ ws server: the client parks its contexts and goes on', async () => {
    const server = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 0 } });
    server.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: { threshold: 0 } });
    cleanups.push(() => {
      client.terminate();
      for (const ws of server.clients) ws.terminate();
    });
    await once(client, 'open');
    const first = [phrase(1), phrase(2)];
    expect(await exchange(client, first)).toEqual(first);
    expect(native.wsZlibContexts(0).parked).toBe(2);
    const again = [first[0]!, first[1]!, first[0]!];
    expect(await exchange(client, again)).toEqual(again);
  });

  it('gives the contexts of 200 idle connections back: most of their memory', async () => {
    const port = await ourEchoServer();
    const clients: WS[] = [];
    cleanups.push(() => clients.forEach((client) => client.terminate()));
    for (let i = 0; i < 200; i++) {
      const client = new WS(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true });
      clients.push(client);
      await once(client, 'open');
      const text = phrase(i);
      expect(await exchange(client, [text])).toEqual([text]);
    }
    expect(native.wsZlibContexts().held).toBe(400);
    const before = native.mallocStats().inUse;
    const idleBefore = native.wsZlibContexts().idle;
    expect(native.wsZlibContexts(0).parked).toBe(400);
    const released = before - native.mallocStats().inUse;
    // ~285 KiB of compressor and ~42 KiB of decompressor each, less a window copy of a few KiB
    // (each connection sent ~2 KiB): well over 200 KiB per connection comes back. (The sanitizer
    // build's allocator is not glibc's: mallinfo does not see it, only the pool's counts can.)
    if (!native.sanitizerBuild) expect(released / 200).toBeGreaterThan(200 * 1024);
    expect(native.wsZlibContexts()).toMatchObject({ held: 0 });
    // The pool keeps at most 4 idle contexts per setting; the rest were freed.
    expect(native.wsZlibContexts().idle - idleBefore).toBeLessThanOrEqual(8);
    for (const client of clients) {
      const text = phrase(7);
      expect(await exchange(client, [text])).toEqual([text]);
    }
  });

  it('the sweep parks idle contexts by itself, and its timer keeps no process alive', async () => {
    const port = await ourEchoServer();
    const listening = EventBase.default().stats().addedEvents; // the listener's
    const client = new WS(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true });
    cleanups.push(() => client.terminate());
    await once(client, 'open');
    expect(await exchange(client, [phrase(1)])).toHaveLength(1);
    expect(native.wsZlibContexts().held).toBe(2);
    // Parked after 10 s unused, looked at every 5 s.
    await waitFor(() => native.wsZlibContexts().held === 0, 30_000, 'the sweep to park both contexts');
    const text = phrase(2);
    expect(await exchange(client, [text])).toEqual([text]);
    client.close();
    await once(client, 'close');
    // The sweep's timer is armed again (contexts were held), yet counts as no work.
    await waitFor(() => EventBase.default().stats().liveWebSockets === 0, 10_000, 'the server side to close');
    expect(EventBase.default().stats().addedEvents).toBe(listening);
  }, 60_000);
});
