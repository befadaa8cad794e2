// Chromium against our WebSocketServer, with permessage-deflate agreed and without: what each end
// says was agreed, and text and binary messages both ways — tiny, around and above the compression
// threshold, 4 MiB, repetitive and random, echoed, sent in bursts, in fragments and published —
// arriving complete and in order. A wire tap between the two shows what really travelled compressed
// (RSV1 on a message's first frame) and how many bytes it took.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNothingLeaksAfterEach } from '../helpers.ts';
import { browserForFile, freshPage, screenshotFailuresAndCloseContexts } from './browser-helpers.ts';
import type { MessageSpec } from './socket-page.ts';
import {
  BURST_MESSAGES,
  FRAGMENTED_MESSAGES,
  IMPLEMENTATION,
  serverCompresses,
  serverPayload,
  SocketServer,
  type OpenedSocket,
  type SocketPath,
} from './socket-servers.ts';

const browser = browserForFile();
checkNothingLeaksAfterEach();
screenshotFailuresAndCloseContexts('websocket-deflate');

const MiB = 1024 * 1024;
/** The size of the repeatable messages: well inside a 32 KiB window. */
const REPEATED_SIZE = 8000;
/** What Chromium offers: the extension, letting the server limit its window. */
const CHROMIUM_OFFER = 'permessage-deflate; client_max_window_bits';

/** Every size, as text and binary, repetitive and random: 20 messages. */
const EVERY_KIND: MessageSpec[] = [1, 100, 2048, 64 * 1024, 4 * MiB].flatMap((size) =>
  [false, true].flatMap((binary) =>
    (['compressible', 'random'] as const).map((kind) => ({ binary, size, kind })),
  ),
);

async function openPage(server: SocketServer) {
  const page = await freshPage(browser());
  await page.goto(server.pageUrl);
  return page;
}

/** Closes the page's socket normally and waits for the server to see it. */
async function closeNormally(server: SocketServer, { socket, connection }: OpenedSocket): Promise<void> {
  expect(await socket.close(1000, 'done')).toEqual({ code: 1000, reason: 'done', wasClean: true });
  expect((await server.closed(connection)).close).toEqual({ code: 1000, reason: 'done' });
  expect(connection.errors).toEqual([]);
}

describe.each([
  { compression: true, title: 'permessage-deflate agreed' },
  { compression: false, title: 'no compression' },
])('Chromium and our server, $title', { timeout: 180_000 }, ({ compression }) => {
  let server: SocketServer;
  beforeAll(async () => {
    server = await SocketServer.start(IMPLEMENTATION, { perMessageDeflate: compression });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function open(path: SocketPath): Promise<OpenedSocket> {
    return server.open(await openPage(server), path);
  }

  it('both ends agree on what the handshake said', async () => {
    const opened = await open('/echo');
    const { socket, connection, wire } = opened;
    // Chromium always offers; the server answers according to its option.
    expect(connection.offer).toBe(CHROMIUM_OFFER);
    expect(wire.toServer.header('sec-websocket-extensions')).toBe(CHROMIUM_OFFER);
    const answer = wire.toBrowser.header('sec-websocket-extensions');
    if (compression) {
      // Chromium asks for nothing the server must confirm: the plain name is the whole answer.
      expect(answer).toBe('permessage-deflate');
      expect(socket.extensions).toBe(answer);
      expect(connection.extensions).toBe('permessage-deflate');
    } else {
      expect(answer).toBeUndefined();
      expect(socket.extensions).toBe('');
      expect(connection.extensions).toBe('');
    }
    await closeNormally(server, opened);
  });

  it('echoes text and binary of every size and kind, each exactly, in order', async () => {
    const opened = await open('/echo');
    const { socket, connection, wire } = opened;
    const sent = await socket.sendAll(EVERY_KIND);
    expect(sent.map(({ binary, length }) => ({ binary, length }))).toEqual(
      EVERY_KIND.map(({ binary, size }) => ({ binary, length: size })),
    );
    const echoed = await socket.received(EVERY_KIND.length);
    expect(echoed).toEqual(sent);
    expect(connection.received).toEqual(sent);
    expect(connection.sent).toEqual(sent);

    const up = wire.toServer.messages();
    const down = wire.toBrowser.messages();
    expect(up).toHaveLength(EVERY_KIND.length);
    expect(down).toHaveLength(EVERY_KIND.length);
    EVERY_KIND.forEach((spec, i) => {
      const what = `message #${i} (${JSON.stringify(spec)})`;
      expect(up[i]!.opcode, what).toBe(spec.binary ? 2 : 1);
      expect(down[i]!.opcode, what).toBe(spec.binary ? 2 : 1);
      // Chromium compresses every message once agreed; the server from the threshold on.
      expect(up[i]!.compressed, `${what} from the browser`).toBe(compression);
      expect(down[i]!.compressed, `${what} from the server`).toBe(compression && serverCompresses(spec.size));
      expect(up[i]!.rsv1OnContinuation || down[i]!.rsv1OnContinuation, what).toBe(false);
      if (!down[i]!.compressed) expect(down[i]!.wireLength, what).toBe(spec.size);
      // Chromium sends what stays large in frames of about 128 KiB: inflating spans continuations.
      if (spec.size === 4 * MiB && spec.kind === 'random') expect(up[i]!.frames, what).toBeGreaterThan(1);
      if (compression && spec.kind === 'compressible' && spec.size >= 2048) {
        // Repetitive text shrinks to a small fraction in both directions.
        expect(up[i]!.wireLength, `${what} from the browser`).toBeLessThan(spec.size / 8);
        expect(down[i]!.wireLength, `${what} from the server`).toBeLessThan(spec.size / 8);
      }
    });
    expect([...wire.toServer.frames, ...wire.toBrowser.frames].filter((f) => f.rsv2 || f.rsv3)).toEqual([]);
    await closeNormally(server, opened);
  });

  it('echoes 200 messages sent at once, in order, each exactly', async () => {
    const opened = await open('/echo');
    const { socket, connection, wire } = opened;
    const sizes = [1500, 100, 3000, REPEATED_SIZE, 1024, 1023];
    const specs: MessageSpec[] = Array.from({ length: 200 }, (_, i) => {
      const size = sizes[i % sizes.length]!;
      const kind = size === REPEATED_SIZE ? 'repeatable' : i % 7 === 0 ? 'random' : 'compressible';
      return { binary: Math.floor(i / sizes.length) % 2 === 1, size, kind };
    });
    const sent = await socket.sendAll(specs);
    expect(await socket.received(specs.length)).toEqual(sent);
    expect(connection.received).toEqual(sent);

    const up = wire.toServer.messages();
    const down = wire.toBrowser.messages();
    expect(up.map((message) => message.compressed)).toEqual(specs.map(() => compression));
    expect(down.map((message) => message.compressed)).toEqual(
      specs.map((spec) => compression && serverCompresses(spec.size)),
    );
    // Context takeover, both ways: a pseudo-random message (incompressible on its own) costs its
    // size the first time and almost nothing when it comes again (its bytes are in the window).
    const repeated = specs.flatMap((spec, i) => (spec.kind === 'repeatable' ? [i] : []));
    expect(repeated.length).toBeGreaterThan(10);
    for (const [direction, messages] of [
      ['up', up],
      ['down', down],
    ] as const) {
      for (const [n, i] of repeated.entries()) {
        const what = `${direction}: message #${i} (${JSON.stringify(specs[i])})`;
        const first = repeated.slice(0, n).every((j) => specs[j]!.binary !== specs[i]!.binary);
        if (!compression) expect(messages[i]!.wireLength, what).toBe(REPEATED_SIZE);
        else if (first) expect(messages[i]!.wireLength, what).toBeGreaterThan(REPEATED_SIZE / 2);
        else expect(messages[i]!.wireLength, what).toBeLessThan(REPEATED_SIZE / 10);
      }
    }
    await closeNormally(server, opened);
  });

  it('delivers what the server sends unasked, compressed from the threshold on unless told not to, in order', async () => {
    const opened = await open('/burst');
    const { socket, connection, wire } = opened;
    const received = await socket.received(BURST_MESSAGES.length);
    expect(connection.sent).toHaveLength(BURST_MESSAGES.length);
    expect(received).toEqual(connection.sent);

    const down = wire.toBrowser.messages();
    expect(down.map(({ opcode, compressed }) => ({ opcode, compressed }))).toEqual(
      BURST_MESSAGES.map(({ binary, size, compress }) => ({
        opcode: binary ? 2 : 1,
        compressed: compression && compress && serverCompresses(size),
      })),
    );
    expect(wire.toBrowser.controlFrames()).toEqual([]);
    await closeNormally(server, opened);
  });

  it('delivers messages the server sends in fragments, compressed by their first fragment', async () => {
    const opened = await open('/fragments');
    const { socket, connection, wire } = opened;
    expect(await socket.received(FRAGMENTED_MESSAGES.length)).toEqual(connection.sent);
    expect(wire.toBrowser.messages()).toEqual(
      FRAGMENTED_MESSAGES.map(({ binary, fragments }) => ({
        opcode: binary ? 2 : 1,
        compressed: compression && serverCompresses(fragments[0]!.size),
        rsv1OnContinuation: false,
        frames: fragments.length,
        wireLength: expect.any(Number),
      })),
    );
    // The pings went between the fragments, Chromium answered each; no control frame has RSV1.
    const PING = 0x9;
    const PONG = 0xa;
    expect(wire.toBrowser.controlFrames().map(({ opcode, rsv1 }) => ({ opcode, rsv1 }))).toEqual(
      FRAGMENTED_MESSAGES.map(() => ({ opcode: PING, rsv1: false })),
    );
    expect(wire.toServer.controlFrames().map(({ opcode, rsv1 }) => ({ opcode, rsv1 }))).toEqual(
      FRAGMENTED_MESSAGES.map(() => ({ opcode: PONG, rsv1: false })),
    );
    expect(wire.toBrowser.frames[1]!.opcode).toBe(PING);
    await closeNormally(server, opened);
  });

  it('delivers what the server publishes to every subscribed socket, each exactly, in order', async () => {
    const page = await openPage(server);
    const subscribers: OpenedSocket[] = [];
    for (let i = 0; i < 3; i++) subscribers.push(await server.open(page, '/subscribe'));
    const published = [100, 1023, 1024, 2048, 64 * 1024, 4 * MiB].flatMap((size) =>
      [false, true].flatMap((binary) => [false, true].map((random) => ({ size, binary, random }))),
    );
    for (const [i, { size, binary, random }] of published.entries()) {
      expect(await server.publish(serverPayload(i, size, random), binary), `#${i} skipped`).toBe(0);
    }
    for (const { socket, connection, wire } of subscribers) {
      expect(connection.sent).toHaveLength(published.length);
      expect(await socket.received(published.length)).toEqual(connection.sent);
      expect(wire.toBrowser.messages().map((message) => message.compressed)).toEqual(
        published.map(({ size }) => compression && serverCompresses(size)),
      );
    }
    expect(subscribers[1]!.connection.sent).toEqual(subscribers[0]!.connection.sent);
    for (const subscriber of subscribers) await closeNormally(server, subscriber);
  });
});
