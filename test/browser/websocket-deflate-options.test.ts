// Chromium against our WebSocketServer with perMessageDeflate options that change what is agreed
// or sent: no context takeover on either side with small windows (each message compressed on its
// own, so equal messages cost equal bytes on the wire), the smallest windows, and threshold 0 (every
// message compressed, the empty one included).
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerMessageDeflateOptions } from '../../src/websocket/deflate/options.ts';
import { checkNothingLeaksAfterEach } from '../helpers.ts';
import { browserForFile, freshPage, screenshotFailuresAndCloseContexts } from './browser-helpers.ts';
import { NodeSubscriber } from './node-subscriber.ts';
import type { MessageSpec } from './socket-page.ts';
import {
  IMPLEMENTATION,
  serverCompresses,
  serverPayload,
  SocketServer,
  type OpenedSocket,
} from './socket-servers.ts';
import type { TappedMessage } from './wire-tap.ts';

const browser = browserForFile();
checkNothingLeaksAfterEach();
screenshotFailuresAndCloseContexts('websocket-deflate-options');

/**
 * The server window a ws client subscriber asks for: smaller than the server's own, which ours
 * meets; ws (the reference run) refuses such an offer with 400 instead, so there it asks for 15.
 */
const SMALLER_SERVER_WINDOW = IMPLEMENTATION === 'ours' ? 9 : 15;

/** 120 messages sent at once: repeating sizes, text and binary, mostly repetitive. */
const SIZES = [0, 1, 100, 1023, 1024, 5000, 40_000];
const LOOP: MessageSpec[] = Array.from({ length: 120 }, (_, i) => ({
  binary: Math.floor(i / SIZES.length) % 2 === 1,
  size: SIZES[i % SIZES.length]!,
  kind: SIZES[i % SIZES.length] === 5000 ? 'repeatable' : i % 5 === 4 ? 'random' : 'compressible',
}));
const LARGE: MessageSpec[] = [
  { binary: false, size: 4 * 1024 * 1024, kind: 'compressible' },
  { binary: true, size: 4 * 1024 * 1024, kind: 'random' },
];

/** An extension header's name and parameters, in a fixed order (their order carries no meaning). */
function parameters(header: string | undefined): string[] {
  const [name, ...params] = (header ?? '').split(';').map((part) => part.trim());
  return [name!, ...params.sort()];
}

/** The wire lengths of the messages that are not random, by type and size: equal ones share a key. */
function wireLengthsByMessage(messages: TappedMessage[], specs: MessageSpec[]): Map<string, Set<number>> {
  const lengths = new Map<string, Set<number>>();
  specs.forEach((spec, i) => {
    if (spec.kind === 'random') return;
    const key = `${spec.binary ? 'binary' : 'text'} ${spec.size}`;
    if (!lengths.has(key)) lengths.set(key, new Set());
    lengths.get(key)!.add(messages[i]!.wireLength);
  });
  return lengths;
}

describe.each<{
  title: string;
  perMessageDeflate: PerMessageDeflateOptions;
  answer: string;
  serverCompresses: (size: number) => boolean;
}>([
  {
    title: 'no context takeover either way, 10-bit windows',
    perMessageDeflate: {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 10,
    },
    answer:
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=10',
    serverCompresses: (size) => size >= 1024,
  },
  {
    // Chromium compresses with a 9-bit window here (zlib has no 8-bit deflate) but keeps its
    // back-references within 250 bytes, which a 256-byte window inflates.
    title: 'the smallest windows: 8 bits for the client, 9 for the server',
    perMessageDeflate: { clientMaxWindowBits: 8, serverMaxWindowBits: 9 },
    answer: 'permessage-deflate; server_max_window_bits=9; client_max_window_bits=8',
    serverCompresses: (size) => serverCompresses(size),
  },
  {
    title: 'threshold 0, zlib level 9',
    perMessageDeflate: { threshold: 0, zlibDeflateOptions: { level: 9, memLevel: 9 } },
    answer: 'permessage-deflate',
    serverCompresses: () => true,
  },
])('Chromium and our server with $title', { timeout: 180_000 }, (variant) => {
  let server: SocketServer;
  beforeAll(async () => {
    server = await SocketServer.start(IMPLEMENTATION, { perMessageDeflate: variant.perMessageDeflate });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function newPage(): Promise<Page> {
    const page = await freshPage(browser());
    await page.goto(server.pageUrl);
    return page;
  }

  async function closeAll(sockets: OpenedSocket[]): Promise<void> {
    for (const { socket, connection } of sockets) {
      expect(await socket.close(1000, '')).toEqual({ code: 1000, reason: '', wasClean: true });
      expect((await server.closed(connection)).errors).toEqual([]);
    }
  }

  it('agrees on the parameters the server asked for', async () => {
    const { socket, connection, wire } = await server.open(await newPage(), '/echo');
    const answer = wire.toBrowser.header('sec-websocket-extensions');
    expect(parameters(answer)).toEqual(parameters(variant.answer));
    expect(socket.extensions).toBe(answer);
    expect(connection.extensions).toBe('permessage-deflate');
    expect(await socket.close(1000, '')).toEqual({ code: 1000, reason: '', wasClean: true });
    await server.closed(connection);
  });

  it('echoes many messages of every size sent at once, each exactly, in order', async () => {
    const { socket, connection, wire } = await server.open(await newPage(), '/echo');
    const sent = await socket.sendAll(LOOP);
    expect(await socket.received(LOOP.length)).toEqual(sent);
    expect(connection.received).toEqual(sent);
    const up = wire.toServer.messages();
    const down = wire.toBrowser.messages();
    expect(up.map((message) => message.compressed)).toEqual(LOOP.map(() => true));
    expect(down.map((message) => message.compressed)).toEqual(
      LOOP.map((spec) => variant.serverCompresses(spec.size)),
    );
    if (variant.perMessageDeflate.serverNoContextTakeover === true) {
      // Each message compressed on its own, in both directions: equal messages, equal wire bytes.
      for (const [what, lengths] of wireLengthsByMessage(up, LOOP))
        expect(lengths.size, `up: ${what}`).toBe(1);
      for (const [what, lengths] of wireLengthsByMessage(down, LOOP))
        expect(lengths.size, `down: ${what}`).toBe(1);
      // And a pseudo-random message costs its size every time it comes again.
      LOOP.forEach((spec, i) => {
        if (spec.kind !== 'repeatable') return;
        const what = `message #${i} (${JSON.stringify(spec)})`;
        expect(up[i]!.wireLength, `up: ${what}`).toBeGreaterThan(spec.size / 2);
        expect(down[i]!.wireLength, `down: ${what}`).toBeGreaterThan(spec.size / 2);
      });
    }
    expect(await socket.close(1000, '')).toEqual({ code: 1000, reason: '', wasClean: true });
    expect((await server.closed(connection)).errors).toEqual([]);
  });

  it('echoes 4 MiB messages, repetitive and random, exactly', async () => {
    const { socket, connection, wire } = await server.open(await newPage(), '/echo');
    const sent = await socket.sendAll(LARGE);
    expect(await socket.received(LARGE.length)).toEqual(sent);
    expect(connection.received).toEqual(sent);
    const down = wire.toBrowser.messages();
    expect(down.map((message) => message.compressed)).toEqual([true, true]);
    expect(down[0]!.wireLength).toBeLessThan(LARGE[0]!.size / 8);
    expect(await socket.close(1000, '')).toEqual({ code: 1000, reason: '', wasClean: true });
    expect((await server.closed(connection)).errors).toEqual([]);
  });

  it('echoes on 12 sockets of one page at once, each message exactly, in order', async () => {
    const page = await newPage();
    const sockets: OpenedSocket[] = [];
    for (let i = 0; i < 12; i++) sockets.push(await server.open(page, '/echo'));
    const specs = (n: number) => LOOP.slice(n, n + 30);
    // All sockets send and receive at the same time: the server's (de)compressors interleave.
    const sent = await Promise.all(sockets.map(({ socket }, n) => socket.sendAll(specs(n))));
    for (const [n, { socket, connection }] of sockets.entries()) {
      expect(await socket.received(specs(n).length), `socket #${n}`).toEqual(sent[n]);
      expect(connection.received, `socket #${n}`).toEqual(sent[n]);
    }
    await closeAll(sockets);
  });

  it('delivers what the server publishes to every subscriber exactly, in order, whatever each agreed', async () => {
    const page = await newPage();
    const subscribers: OpenedSocket[] = [];
    for (let i = 0; i < 3; i++) subscribers.push(await server.open(page, '/subscribe'));
    // Beside the browser's: subscribers that asked for a smaller server window, for no context
    // takeover, and for no compression.
    const others = [
      await NodeSubscriber.open(server, { serverMaxWindowBits: SMALLER_SERVER_WINDOW }),
      await NodeSubscriber.open(server, { serverNoContextTakeover: true }),
      await NodeSubscriber.open(server, false),
    ];
    expect(others.map((other) => other.extensions !== '')).toEqual([true, true, false]);
    // Repeated payloads too: with context takeover each subscriber's compressor remembers them.
    const published = [0, 1, 100, 1024, 5000, 5000, 40_000, 1024, 5000].map((size, i) => ({
      payload: serverPayload(i % 3, size, i % 4 === 3),
      binary: i % 2 === 1,
    }));
    for (const [i, { payload, binary }] of published.entries()) {
      expect(await server.publish(payload, binary), `#${i} skipped`).toBe(0);
    }
    for (const { socket, connection, wire } of subscribers) {
      expect(await socket.received(published.length)).toEqual(connection.sent);
      expect(connection.sent.map(({ length }) => length)).toEqual(
        published.map(({ payload }) => payload.length),
      );
      const down = wire.toBrowser.messages();
      expect(down.map((message) => message.compressed)).toEqual(
        published.map(({ payload }) => variant.serverCompresses(payload.length)),
      );
    }
    for (const other of others) {
      expect(await other.receivedAll(published.length)).toEqual(subscribers[0]!.connection.sent);
      expect(other.connection.sent).toEqual(subscribers[0]!.connection.sent);
    }
    await closeAll(subscribers);
    for (const other of others) await other.close(server);
  });
});
