// The compressed messages of RFC 7692 §7.2.3, byte for byte, sent to our server by a raw client
// and to our client by a raw server: each inflates to "Hello" — one block, fragmented, sharing the
// window with the previous message, a stored block, BFINAL set, two blocks in one message.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkNothingLeaksAfterEach, waitFor } from '../../helpers.ts';
import { frames, RawClient } from '../conformance/raw-client.ts';
import { serverFrame, startRawDeflateServer } from './compressed-frames.ts';
import { openClient, startServer, WAIT_MS, type Server } from './deflate-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

const bytes = (...values: number[]) => Buffer.from(values);

/** §7.2.3.1: "Hello" compressed into one block (sync flush, tail removed). */
const HELLO = bytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00);

let server: Server;
const clients: RawClient[] = [];

beforeEach(async () => {
  server = await startServer({ perMessageDeflate: true });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await server.close();
});

async function sendAndRead(messages: Buffer[][], offer = 'permessage-deflate'): Promise<string[]> {
  const client = await RawClient.connect(server.port);
  clients.push(client);
  const response = await client.handshake({ headers: { 'Sec-WebSocket-Extensions': offer } });
  expect(response.headers['sec-websocket-extensions']).toMatch(/^permessage-deflate\b/);
  for (const message of messages) await client.send(Buffer.concat(message));
  const side = await server.side(0);
  await side.nextMessages(messages.length);
  expect(side.errors).toEqual([]);
  return side.messages.map((message) => message.data.toString());
}

describe('RFC 7692 §7.2.3 examples against our server', () => {
  it('§7.2.3.1: "Hello" in one compressed frame', async () => {
    expect(await sendAndRead([[frames.text(HELLO, { rsv1: true })]])).toEqual(['Hello']);
  });

  it('§7.2.3.1: "Hello" compressed and fragmented', async () => {
    const message = [
      frames.text(HELLO.subarray(0, 3), { rsv1: true, fin: false }),
      frames.continuation(HELLO.subarray(3)),
    ];
    expect(await sendAndRead([message])).toEqual(['Hello']);
  });

  it('§7.2.3.2: a second "Hello" that refers back into the first (context takeover)', async () => {
    const second = bytes(0xf2, 0x00, 0x11, 0x00, 0x00);
    expect(
      await sendAndRead([[frames.text(HELLO, { rsv1: true })], [frames.text(second, { rsv1: true })]]),
    ).toEqual(['Hello', 'Hello']);
  });

  it('§7.2.3.3: a stored (uncompressed) deflate block', async () => {
    const stored = bytes(0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00);
    expect(await sendAndRead([[frames.text(stored, { rsv1: true })]])).toEqual(['Hello']);
  });

  it('§7.2.3.4: a block with BFINAL set, then more messages on the same connection', async () => {
    const final = bytes(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00);
    const messages = [
      [frames.text(final, { rsv1: true })],
      [frames.text(HELLO, { rsv1: true })],
      [frames.text(final, { rsv1: true })],
    ];
    expect(await sendAndRead(messages)).toEqual(['Hello', 'Hello', 'Hello']);
  });

  it('§7.2.3.4: BFINAL blocks under client_no_context_takeover', async () => {
    const final = bytes(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00);
    const messages = [[frames.text(final, { rsv1: true })], [frames.text(final, { rsv1: true })]];
    expect(await sendAndRead(messages, 'permessage-deflate; client_no_context_takeover')).toEqual([
      'Hello',
      'Hello',
    ]);
  });

  it('§7.2.3.5: two deflate blocks in one message', async () => {
    const twoBlocks = bytes(0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00);
    expect(await sendAndRead([[frames.text(twoBlocks, { rsv1: true })]])).toEqual(['Hello']);
  });
});

describe('RFC 7692 §7.2.3 examples received by our client', () => {
  it('each example from a raw server inflates to "Hello", BFINAL and shared window included', async () => {
    const raw = await startRawDeflateServer();
    try {
      const opening = openClient(`ws://127.0.0.1:${raw.port}/`, true);
      const peer = await raw.accept('permessage-deflate');
      const client = await opening;
      const payloads = [
        HELLO,
        bytes(0xf2, 0x00, 0x11, 0x00, 0x00), // §7.2.3.2, referring back into the previous message
        bytes(0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00), // §7.2.3.3
        bytes(0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00), // §7.2.3.5
        bytes(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00), // §7.2.3.4, BFINAL set
        HELLO,
      ];
      for (const payload of payloads) peer.write(serverFrame(0x1, payload, { rsv1: true }));
      await waitFor(
        () => client.messages.length === payloads.length || client.closes.length > 0,
        WAIT_MS,
        'the messages',
      );
      expect({
        messages: client.messages.map((message) => message.data.toString()),
        errors: client.errors.map((error) => error.code),
      }).toEqual({ messages: payloads.map(() => 'Hello'), errors: [] });
      client.ws.terminate();
      await waitFor(() => client.closes.length === 1, WAIT_MS, 'the client to close');
    } finally {
      await raw.close();
    }
  });
});
