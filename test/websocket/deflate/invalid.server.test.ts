// Compressed messages our server must refuse, from a raw client: data that is no deflate stream
// (close 1007 for text, 1002 for binary, WS_ERR_INVALID_COMPRESSED_DATA), text that inflates to
// invalid UTF-8 (1007, WS_ERR_INVALID_UTF8), RSV1 where permessage-deflate does not allow it (1002,
// WS_ERR_UNEXPECTED_RSV_1), and a back-reference into a previous message when the client agreed
// not to keep its context (the server's inflater was reset: 1002).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkNothingLeaksAfterEach } from '../../helpers.ts';
import { closeCodeOf, frames, RawClient } from '../conformance/raw-client.ts';
import { compressMessage, inflateMessage, NOT_DEFLATE } from './compressed-frames.ts';
import { compressibleText, randomText, startServer, type Server } from './deflate-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

let server: Server;
const clients: RawClient[] = [];

beforeEach(async () => {
  server = await startServer({ perMessageDeflate: true });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await server.close();
});

async function rawClient(offer: string | null = 'permessage-deflate'): Promise<RawClient> {
  const client = await RawClient.connect(server.port);
  clients.push(client);
  const response = await client.handshake({ headers: { 'Sec-WebSocket-Extensions': offer } });
  expect(response.statusCode).toBe(101);
  if (offer === null) expect(response.headers['sec-websocket-extensions']).toBeUndefined();
  else expect(response.headers['sec-websocket-extensions']).toMatch(/^permessage-deflate\b/);
  return client;
}

/** The server's close code, the messages it delivered before, and its socket's error codes. */
async function outcome(client: RawClient) {
  const close = await client.waitForCloseFrame();
  const side = await server.side(0);
  await client.waitForTcpClose();
  await server.close();
  return {
    closeCode: closeCodeOf(close),
    errors: side.errors.map((error) => error.code),
    delivered: side.messages.map((message) => message.data.toString()),
  };
}

const TEXT = compressibleText(3000);

describe('our server refuses invalid compressed messages', () => {
  it('a text message that is no deflate stream: 1007, WS_ERR_INVALID_COMPRESSED_DATA', async () => {
    const client = await rawClient();
    await client.send(frames.text(NOT_DEFLATE, { rsv1: true }));
    expect(await outcome(client)).toEqual({
      closeCode: 1007,
      errors: ['WS_ERR_INVALID_COMPRESSED_DATA'],
      delivered: [],
    });
  });

  it('a binary message that is no deflate stream: 1002, WS_ERR_INVALID_COMPRESSED_DATA', async () => {
    const client = await rawClient();
    await client.send(frames.binary(NOT_DEFLATE, { rsv1: true }));
    expect(await outcome(client)).toEqual({
      closeCode: 1002,
      errors: ['WS_ERR_INVALID_COMPRESSED_DATA'],
      delivered: [],
    });
  });

  it('invalid deflate data in the second fragment, after a valid first one: refused, nothing delivered', async () => {
    const client = await rawClient();
    // Whole blocks ending in a sync flush's empty stored block: the next byte starts a new block.
    const valid = Buffer.concat([compressMessage(TEXT), Buffer.from([0, 0, 0xff, 0xff])]);
    await client.send(frames.binary(valid, { rsv1: true, fin: false }));
    await client.send(frames.continuation(NOT_DEFLATE));
    expect(await outcome(client)).toEqual({
      closeCode: 1002,
      errors: ['WS_ERR_INVALID_COMPRESSED_DATA'],
      delivered: [],
    });
  });

  it('text that inflates to invalid UTF-8: 1007, WS_ERR_INVALID_UTF8', async () => {
    const client = await rawClient();
    const invalid = Buffer.concat([Buffer.from(TEXT), Buffer.from([0xc3, 0x28]), Buffer.from(TEXT)]);
    await client.send(frames.text(compressMessage(invalid), { rsv1: true }));
    expect(await outcome(client)).toEqual({
      closeCode: 1007,
      errors: ['WS_ERR_INVALID_UTF8'],
      delivered: [],
    });
  });

  it('text that inflates to a truncated UTF-8 sequence at its end: 1007, WS_ERR_INVALID_UTF8', async () => {
    const client = await rawClient();
    const truncated = Buffer.concat([Buffer.from(TEXT), Buffer.from('€').subarray(0, 2)]);
    await client.send(frames.text(compressMessage(truncated), { rsv1: true }));
    expect(await outcome(client)).toEqual({
      closeCode: 1007,
      errors: ['WS_ERR_INVALID_UTF8'],
      delivered: [],
    });
  });

  it('binary that inflates to invalid UTF-8 is delivered as it is', async () => {
    const client = await rawClient();
    const bytes = Buffer.from([0xc3, 0x28, 0xff, 0xfe, ...Buffer.from(TEXT)]);
    await client.send(frames.binary(compressMessage(bytes), { rsv1: true }));
    const echoed = await client.readMessage();
    expect(inflateMessage(echoed.data).equals(bytes)).toBe(true);
    expect((await server.side(0)).errors).toEqual([]);
  });

  it('RSV1 on a continuation frame: 1002, WS_ERR_UNEXPECTED_RSV_1', async () => {
    const client = await rawClient();
    const compressed = compressMessage(TEXT);
    await client.send(frames.text(compressed.subarray(0, 20), { rsv1: true, fin: false }));
    await client.send(frames.continuation(compressed.subarray(20), { rsv1: true }));
    expect(await outcome(client)).toEqual({
      closeCode: 1002,
      errors: ['WS_ERR_UNEXPECTED_RSV_1'],
      delivered: [],
    });
  });

  it('RSV1 on a ping: 1002, WS_ERR_UNEXPECTED_RSV_1', async () => {
    const client = await rawClient();
    await client.send(frames.ping(compressMessage('ping'), { rsv1: true }));
    expect(await outcome(client)).toEqual({
      closeCode: 1002,
      errors: ['WS_ERR_UNEXPECTED_RSV_1'],
      delivered: [],
    });
  });

  it('RSV1 from a client that did not offer permessage-deflate: 1002, WS_ERR_UNEXPECTED_RSV_1', async () => {
    const client = await rawClient(null);
    await client.send(frames.text(compressMessage(TEXT), { rsv1: true }));
    expect(await outcome(client)).toEqual({
      closeCode: 1002,
      errors: ['WS_ERR_UNEXPECTED_RSV_1'],
      delivered: [],
    });
  });
});

describe('the server inflates with the context the client agreed to keep', () => {
  // The second message is compressed against the first, as a client with context takeover does.
  const first = randomText(4000);
  const second = `${first} again`;
  const secondAgainstFirst = compressMessage(second, first);
  const secondAlone = compressMessage(second);

  it('the crafted second message really refers back into the first', () => {
    expect(secondAgainstFirst.length).toBeLessThan(secondAlone.length / 4);
  });

  it('with client context takeover, a message referring back into the previous one is delivered', async () => {
    const client = await rawClient('permessage-deflate');
    await client.send(frames.text(compressMessage(first), { rsv1: true }));
    await client.send(frames.text(secondAgainstFirst, { rsv1: true }));
    const side = await server.side(0);
    await side.nextMessages(2);
    expect(side.messages.map((message) => message.data.toString())).toEqual([first, second]);
    expect(side.errors).toEqual([]);
  });

  it('with client_no_context_takeover agreed, the same reference is invalid: 1007 for text', async () => {
    const client = await rawClient('permessage-deflate; client_no_context_takeover');
    await client.send(frames.text(compressMessage(first), { rsv1: true }));
    await client.send(frames.text(secondAgainstFirst, { rsv1: true }));
    const close = await client.waitForCloseFrame();
    expect(close.before).toHaveLength(1); // the echo of the first message
    const side = await server.side(0);
    await client.waitForTcpClose();
    await server.close();
    expect(closeCodeOf(close)).toBe(1007);
    expect(side.messages.map((message) => message.data.toString())).toEqual([first]);
    expect(side.errors.map((error) => error.code)).toEqual(['WS_ERR_INVALID_COMPRESSED_DATA']);
  });

  it('messages compressed independently are delivered under client_no_context_takeover', async () => {
    const client = await rawClient('permessage-deflate; client_no_context_takeover');
    for (const text of [first, second, first]) {
      await client.send(frames.text(compressMessage(text), { rsv1: true }));
    }
    const side = await server.side(0);
    await side.nextMessages(3);
    expect(side.messages.map((message) => message.data.toString())).toEqual([first, second, first]);
  });
});
