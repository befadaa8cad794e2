// Chromium against our WebSocketServer, with permessage-deflate agreed and without: close codes and
// reasons both ways after compressed traffic, and a message over the server's maxPayload refused with
// 1009 — over it on the wire across frames, or (compressed) only once inflated, even in a later
// frame than the first — while messages of exactly maxPayload pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerMessageDeflateOptions } from '../../src/websocket/deflate/options.ts';
import { checkNothingLeaksAfterEach } from '../helpers.ts';
import { browserForFile, freshPage, screenshotFailuresAndCloseContexts } from './browser-helpers.ts';
import type { MessageSpec } from './socket-page.ts';
import {
  IMPLEMENTATION,
  SERVER_CLOSE,
  serverCloseCodeAfterError,
  SERVER_CLOSE_MESSAGE_SIZE,
  SocketServer,
  type OpenedSocket,
  type SocketPath,
} from './socket-servers.ts';

const browser = browserForFile();
checkNothingLeaksAfterEach();
screenshotFailuresAndCloseContexts('websocket-deflate-close');

const MiB = 1024 * 1024;
const MAX_PAYLOAD = MiB;
const CLOSE_FRAME = 0x8;

describe.each<{ title: string; perMessageDeflate: boolean | PerMessageDeflateOptions }>([
  { title: 'permessage-deflate agreed', perMessageDeflate: true },
  // Without context takeover the server inflates a message in one step once its last frame is in.
  {
    title: 'permessage-deflate without context takeover',
    perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true },
  },
  { title: 'no compression', perMessageDeflate: false },
])('closing between Chromium and our server, $title', { timeout: 120_000 }, ({ perMessageDeflate }) => {
  const compression = perMessageDeflate !== false;
  let server: SocketServer;
  let limited: SocketServer;
  beforeAll(async () => {
    server = await SocketServer.start(IMPLEMENTATION, { perMessageDeflate });
    limited = await SocketServer.start(IMPLEMENTATION, { perMessageDeflate, maxPayload: MAX_PAYLOAD });
  });
  afterAll(async () => {
    await server?.stop();
    await limited?.stop();
  });

  async function open(on: SocketServer, path: SocketPath): Promise<OpenedSocket> {
    const page = await freshPage(browser());
    await page.goto(on.pageUrl);
    return on.open(page, path);
  }

  it('the page sees the server’s close code and reason after its last message', async () => {
    const { socket, connection, wire } = await open(server, '/server-closes');
    const received = await socket.received(1);
    expect(received).toEqual(connection.sent);
    expect(received[0]).toMatchObject({ binary: false, length: SERVER_CLOSE_MESSAGE_SIZE });
    expect(await socket.closed()).toEqual({ ...SERVER_CLOSE, wasClean: true });
    // Chromium answers with the same code (and no message after the server's close frame).
    expect((await server.closed(connection)).close).toEqual({
      code: SERVER_CLOSE.code,
      reason: expect.any(String),
    });
    expect(connection.errors).toEqual([]);

    expect(wire.toBrowser.messages().map((message) => message.compressed)).toEqual([compression]);
    // Control frames never carry RSV1, compressed traffic or not.
    expect(wire.toBrowser.controlFrames().map(({ opcode, rsv1 }) => ({ opcode, rsv1 }))).toEqual([
      { opcode: CLOSE_FRAME, rsv1: false },
    ]);
    expect(wire.toServer.messages()).toEqual([]);
    expect(wire.toServer.controlFrames().map(({ opcode, rsv1 }) => ({ opcode, rsv1 }))).toEqual([
      { opcode: CLOSE_FRAME, rsv1: false },
    ]);
  });

  it('the page closes while the server’s messages are still arriving: both see its code', async () => {
    const { socket, connection } = await open(server, '/burst');
    const reason = 'enough';
    // The server answers the close frame after what it had queued; the page drops those messages.
    expect(await socket.close(4003, reason)).toEqual({ code: 4003, reason, wasClean: true });
    const closed = await server.closed(connection);
    expect(closed.close).toEqual({ code: 4003, reason });
    expect(closed.errors).toEqual([]);
    expect(closed.sent.length).toBeGreaterThan(0);
  });

  it('the server sees the page’s close code and reason after its messages', async () => {
    const { socket, connection, wire } = await open(server, '/echo');
    const sent = await socket.sendAll([
      { binary: false, size: 2048, kind: 'compressible' },
      { binary: true, size: 64 * 1024, kind: 'random' },
      { binary: true, size: 1, kind: 'random' },
    ]);
    const reason = 'page leaves: ✓';
    expect(await socket.close(4002, reason)).toEqual({ code: 4002, reason, wasClean: true });
    const closed = await server.closed(connection);
    expect(closed.close).toEqual({ code: 4002, reason });
    expect(closed.received).toEqual(sent);
    expect(connection.errors).toEqual([]);
    expect(wire.toServer.messages().map((message) => message.compressed)).toEqual(
      sent.map(() => compression),
    );
    expect(wire.toServer.controlFrames().map(({ opcode, rsv1 }) => ({ opcode, rsv1 }))).toEqual([
      { opcode: CLOSE_FRAME, rsv1: false },
    ]);
  });

  it.each<{ what: string; spec: MessageSpec }>([
    {
      what: 'random binary, over it on the wire too (in several frames)',
      spec: { binary: true, size: 1.5 * MiB, kind: 'random' },
    },
    {
      what: 'repetitive text, compressed far below it',
      spec: { binary: false, size: 4 * MiB, kind: 'compressible' },
    },
    {
      what: 'repetitive binary one byte over it',
      spec: { binary: true, size: MAX_PAYLOAD + 1, kind: 'compressible' },
    },
    {
      what: 'text whose random start fills frames and whose repetitive rest inflates past it',
      spec: { binary: false, size: 2 * MiB, kind: 'mixed', randomPart: 0.75 * MiB },
    },
  ])('refuses a message over maxPayload with 1009: $what', async ({ spec }) => {
    const { socket, connection, wire } = await open(limited, '/echo');
    const small = await socket.sendAll([{ binary: false, size: 100, kind: 'compressible' }]);
    expect(await socket.received(1)).toEqual(small);
    await socket.sendAll([spec]);
    const close = await socket.closed();
    expect(close.code).toBe(1009);
    const closed = await limited.closed(connection);
    expect(closed.close?.code).toBe(serverCloseCodeAfterError(1009));
    expect(closed.received).toEqual(small);
    expect(connection.errors).toEqual([{ code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' }]);
    // What of the refused message crossed the wire (all of it, unless Chromium gave up sending).
    const refused = wire.toServer.messages({ unfinished: true })[1]!;
    expect(refused.compressed).toBe(compression);
    if (compression && spec.kind !== 'random') expect(refused.wireLength).toBeLessThan(MAX_PAYLOAD);
    // The mixed one is refused while inflating a continuation frame, not its first.
    if (compression && spec.kind === 'mixed') expect(refused.frames).toBeGreaterThan(1);
  });

  it('accepts messages of exactly maxPayload bytes (random ones a little smaller)', async () => {
    // Compressed, random bytes grow a little on the wire, where maxPayload applies too.
    const { socket, connection } = await open(limited, '/echo');
    const sent = await socket.sendAll([
      { binary: false, size: MAX_PAYLOAD, kind: 'compressible' },
      { binary: true, size: MAX_PAYLOAD, kind: 'compressible' },
      { binary: true, size: MAX_PAYLOAD - 4096, kind: 'random' },
      { binary: false, size: MAX_PAYLOAD - 4096, kind: 'random' },
      { binary: true, size: MAX_PAYLOAD, kind: 'mixed', randomPart: MAX_PAYLOAD / 2 },
    ]);
    expect(await socket.received(sent.length)).toEqual(sent);
    expect(await socket.close(1000, '')).toEqual({ code: 1000, reason: '', wasClean: true });
    const closed = await limited.closed(connection);
    expect(closed.received).toEqual(sent);
    expect(closed.errors).toEqual([]);
  });
});
