// How our server reads compressed messages however they arrive, from a raw client, with and
// without client context takeover: split into 1-byte fragments, written to TCP a byte at a time,
// empty compressed payloads (nothing, or one 0x00 byte), a long chain of messages each referring
// back into the ones before; and the malformed ends: data after a final block, a message cut
// inside a block.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkNothingLeaksAfterEach } from '../../helpers.ts';
import { bytewiseEdges, closeCodeOf, frames, RawClient } from '../conformance/raw-client.ts';
import { compressMessage } from './compressed-frames.ts';
import { compressibleText, startServer, type Server } from './deflate-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

const OFFERS = [
  ['takeover', 'permessage-deflate'],
  ['client_no_context_takeover', 'permessage-deflate; client_no_context_takeover'],
] as const;

const TEXT = compressibleText(20_000, 11);
const HELLO = Buffer.from([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]); // RFC 7692 §7.2.3.1

let server: Server;
const clients: RawClient[] = [];

beforeEach(async () => {
  server = await startServer({ perMessageDeflate: true, echo: false });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await server.close();
});

async function rawClient(offer: string): Promise<RawClient> {
  const client = await RawClient.connect(server.port);
  clients.push(client);
  const response = await client.handshake({ headers: { 'Sec-WebSocket-Extensions': offer } });
  expect(response.headers['sec-websocket-extensions']).toMatch(/^permessage-deflate\b/);
  return client;
}

async function delivered(count: number): Promise<string[]> {
  const side = await server.side(0);
  await side.nextMessages(count);
  expect(side.errors).toEqual([]);
  return side.messages.map((message) => message.data.toString());
}

describe.each(OFFERS)('our server reading compressed messages (%s)', (_name, offer) => {
  it('a compressed message in 1-byte fragments', async () => {
    const client = await rawClient(offer);
    const compressed = compressMessage(TEXT);
    const bytes = [...compressed].map((byte, i) =>
      i === 0
        ? frames.text(Buffer.from([byte]), { rsv1: true, fin: false })
        : frames.continuation(Buffer.from([byte]), { fin: i === compressed.length - 1 }),
    );
    await client.send(Buffer.concat(bytes));
    expect(await delivered(1)).toEqual([TEXT]);
  });

  it('a compressed frame written to TCP a byte at a time at its edges', async () => {
    const client = await rawClient(offer);
    const frame = frames.text(compressMessage(TEXT), { rsv1: true });
    await client.send(frame, bytewiseEdges(frame.length, 24, 97));
    expect(await delivered(1)).toEqual([TEXT]);
  });

  it('empty compressed payloads (no byte, one 0x00 byte) are empty messages, and the next ones inflate', async () => {
    const client = await rawClient(offer);
    await client.send(frames.text(Buffer.alloc(0), { rsv1: true }));
    await client.send(frames.binary(Buffer.from([0x00]), { rsv1: true }));
    await client.send(frames.text(HELLO, { rsv1: true }));
    await client.send(frames.text(Buffer.alloc(0), { rsv1: true }));
    await client.send(frames.text(HELLO, { rsv1: true }));
    expect(await delivered(5)).toEqual(['', '', 'Hello', '', 'Hello']);
  });

  it('an empty compressed message made of empty fragments', async () => {
    const client = await rawClient(offer);
    await client.send(frames.text(Buffer.alloc(0), { rsv1: true, fin: false }));
    await client.send(frames.continuation(Buffer.alloc(0), { fin: false }));
    await client.send(frames.continuation(Buffer.alloc(0)));
    await client.send(frames.text(HELLO, { rsv1: true }));
    expect(await delivered(2)).toEqual(['', 'Hello']);
  });

  it('a final block followed by garbage: 1007, WS_ERR_INVALID_COMPRESSED_DATA', async () => {
    const client = await rawClient(offer);
    const final = Buffer.from([0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]); // "Hello", BFINAL set
    await client.send(frames.text(Buffer.concat([final, Buffer.from('leftover')]), { rsv1: true }));
    const close = await client.waitForCloseFrame();
    const side = await server.side(0);
    await client.waitForTcpClose();
    await server.close();
    expect(closeCodeOf(close)).toBe(1007);
    expect(side.errors.map((error) => error.code)).toEqual(['WS_ERR_INVALID_COMPRESSED_DATA']);
    expect(side.messages).toEqual([]);
  });

  it('a message cut inside a deflate block: 1002 for binary, WS_ERR_INVALID_COMPRESSED_DATA', async () => {
    const client = await rawClient(offer);
    const compressed = compressMessage(TEXT);
    await client.send(
      frames.binary(compressed.subarray(0, Math.floor(compressed.length / 2)), { rsv1: true }),
    );
    const close = await client.waitForCloseFrame();
    const side = await server.side(0);
    await client.waitForTcpClose();
    await server.close();
    expect(closeCodeOf(close)).toBe(1002);
    expect(side.errors.map((error) => error.code)).toEqual(['WS_ERR_INVALID_COMPRESSED_DATA']);
    expect(side.messages).toEqual([]);
  });
});

describe('a long chain of messages compressed with context takeover', () => {
  it('300 messages, each referring back into the previous 32 KiB, are all inflated correctly', async () => {
    const client = await rawClient('permessage-deflate');
    const texts = Array.from(
      { length: 300 },
      (_, i) => `${i}: ${compressibleText(200 + (i % 50) * 30, i % 7)}`,
    );
    let history = '';
    const bytes: Buffer[] = [];
    for (const text of texts) {
      // What a sender keeping its context has in its window: the last 32 KiB it compressed.
      const window = Buffer.from(history).subarray(-32 * 1024);
      bytes.push(frames.text(compressMessage(text, window.length > 0 ? window : undefined), { rsv1: true }));
      history += text;
    }
    await client.send(Buffer.concat(bytes));
    const received = await delivered(texts.length);
    expect(received.map((text, i) => text === texts[i])).toEqual(texts.map(() => true));
  });
});
