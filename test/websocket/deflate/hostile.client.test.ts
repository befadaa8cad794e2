// Our client against a raw server that agreed permessage-deflate and then sends what no good server
// sends: a 1 GiB zip bomb (refused with close 1009 while inflating, peak RSS growth under 100 MiB),
// data that is no deflate stream (1002 binary, 1007 text), text inflating to invalid UTF-8, RSV1
// where it is not allowed, and back-references the client's inflater must (or must not) resolve.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkNothingLeaksAfterEach, waitFor } from '../../helpers.ts';
import {
  compressMessage,
  NOT_DEFLATE,
  serverFrame,
  startRawDeflateServer,
  zeroBomb,
  type RawDeflateServer,
  type RawPeer,
} from './compressed-frames.ts';
import { openClient, randomText, WAIT_MS, type Recorded } from './deflate-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

const MAX_PAYLOAD = 1024 * 1024;
const OP = { CONTINUATION: 0, TEXT: 1, BINARY: 2, PING: 9 } as const;

let server: RawDeflateServer;
const clients: Recorded[] = [];

beforeEach(async () => {
  server = await startRawDeflateServer();
});

afterEach(async () => {
  for (const client of clients.splice(0)) if (client.closes.length === 0) client.ws.terminate();
  await waitFor(() => clients.every((client) => client.closes.length === 1), WAIT_MS, 'the clients to close');
  await server.close();
});

/** Our client, connected to the raw server, which answered with `answer`. */
async function connect(answer = 'permessage-deflate'): Promise<{ client: Recorded; peer: RawPeer }> {
  const opening = openClient(`ws://127.0.0.1:${server.port}/`, true, undefined, { maxPayload: MAX_PAYLOAD });
  const peer = await server.accept(answer);
  const client = await opening;
  clients.push(client);
  expect(peer.offer).toMatch(/^permessage-deflate\b/);
  expect(client.ws.extensions).toBe(answer === '' ? '' : 'permessage-deflate');
  return { client, peer };
}

/** The close code the client sent, its error codes and the messages it delivered, once it closed. */
async function outcome(client: Recorded, peer: RawPeer) {
  const closeCode = await peer.closeCode();
  peer.destroy();
  await waitFor(() => client.closes.length === 1, WAIT_MS, "the client's close");
  return {
    closeCode,
    errors: client.errors.map((error) => error.code),
    delivered: client.messages.map((message) => message.data.toString()),
  };
}

const TEXT = 'a text to compress, '.repeat(100);

describe('our client against a hostile server', () => {
  // First in the file: it compares the peak RSS with the RSS before, which an earlier test's peak
  // could only hide, never fake.
  it('1 GiB of zeros in one ~1 MiB frame: 1009, WS_ERR_UNSUPPORTED_MESSAGE_LENGTH, peak RSS growth under 100 MiB', async () => {
    const bomb = serverFrame(OP.BINARY, zeroBomb(128), { rsv1: true });
    expect(bomb.length).toBeLessThan(MAX_PAYLOAD);
    const { client, peer } = await connect();
    const rssBefore = process.memoryUsage().rss;
    peer.write(bomb);
    expect(await outcome(client, peer)).toEqual({
      closeCode: 1009,
      errors: ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'],
      delivered: [],
    });
    expect(process.resourceUsage().maxRSS * 1024 - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });

  it('a text bomb of 8 MiB from ~8 KiB: 1009, WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', async () => {
    const { client, peer } = await connect();
    peer.write(serverFrame(OP.TEXT, zeroBomb(1), { rsv1: true }));
    expect(await outcome(client, peer)).toEqual({
      closeCode: 1009,
      errors: ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'],
      delivered: [],
    });
  });

  it('binary that is no deflate stream: 1002, WS_ERR_INVALID_COMPRESSED_DATA', async () => {
    const { client, peer } = await connect();
    peer.write(serverFrame(OP.BINARY, NOT_DEFLATE, { rsv1: true }));
    expect(await outcome(client, peer)).toEqual({
      closeCode: 1002,
      errors: ['WS_ERR_INVALID_COMPRESSED_DATA'],
      delivered: [],
    });
  });

  it('text that is no deflate stream: 1007, WS_ERR_INVALID_COMPRESSED_DATA', async () => {
    const { client, peer } = await connect();
    peer.write(serverFrame(OP.TEXT, NOT_DEFLATE, { rsv1: true }));
    expect(await outcome(client, peer)).toEqual({
      closeCode: 1007,
      errors: ['WS_ERR_INVALID_COMPRESSED_DATA'],
      delivered: [],
    });
  });

  it('text inflating to invalid UTF-8: 1007, WS_ERR_INVALID_UTF8', async () => {
    const { client, peer } = await connect();
    const invalid = Buffer.concat([Buffer.from(TEXT), Buffer.from([0xed, 0xa0, 0x80])]); // a surrogate
    peer.write(serverFrame(OP.TEXT, compressMessage(invalid), { rsv1: true }));
    expect(await outcome(client, peer)).toEqual({
      closeCode: 1007,
      errors: ['WS_ERR_INVALID_UTF8'],
      delivered: [],
    });
  });

  it('RSV1 on a continuation frame: 1002, WS_ERR_UNEXPECTED_RSV_1', async () => {
    const { client, peer } = await connect();
    const compressed = compressMessage(TEXT);
    peer.write(serverFrame(OP.TEXT, compressed.subarray(0, 8), { rsv1: true, fin: false }));
    peer.write(serverFrame(OP.CONTINUATION, compressed.subarray(8), { rsv1: true }));
    expect(await outcome(client, peer)).toEqual({
      closeCode: 1002,
      errors: ['WS_ERR_UNEXPECTED_RSV_1'],
      delivered: [],
    });
  });

  it('RSV1 on a ping: 1002, WS_ERR_UNEXPECTED_RSV_1', async () => {
    const { client, peer } = await connect();
    peer.write(serverFrame(OP.PING, Buffer.from('hi'), { rsv1: true }));
    expect(await outcome(client, peer)).toEqual({
      closeCode: 1002,
      errors: ['WS_ERR_UNEXPECTED_RSV_1'],
      delivered: [],
    });
  });

  it('RSV1 from a server that did not agree permessage-deflate: 1002, WS_ERR_UNEXPECTED_RSV_1', async () => {
    const { client, peer } = await connect('');
    peer.write(serverFrame(OP.TEXT, compressMessage(TEXT), { rsv1: true }));
    expect(await outcome(client, peer)).toEqual({
      closeCode: 1002,
      errors: ['WS_ERR_UNEXPECTED_RSV_1'],
      delivered: [],
    });
  });
});

describe('our client inflates with the context the server agreed to keep', () => {
  const first = randomText(4000);
  const second = `${first} again`;
  const secondAgainstFirst = compressMessage(second, first);

  it('the crafted second message really refers back into the first', () => {
    expect(secondAgainstFirst.length).toBeLessThan(compressMessage(second).length / 4);
  });

  it('with server context takeover, a reference into the previous message is resolved', async () => {
    const { client, peer } = await connect();
    peer.write(serverFrame(OP.TEXT, compressMessage(first), { rsv1: true }));
    peer.write(serverFrame(OP.TEXT, secondAgainstFirst, { rsv1: true }));
    peer.write(serverFrame(OP.TEXT, Buffer.from('plain after'))); // uncompressed: the context is kept
    peer.write(serverFrame(OP.TEXT, compressMessage(`${second}!`, first + second), { rsv1: true }));
    const received = await client.nextMessages(4);
    expect(received.map((message) => message.data.toString())).toEqual([
      first,
      second,
      'plain after',
      `${second}!`,
    ]);
    expect(client.errors).toEqual([]);
  });

  it('with server_no_context_takeover agreed, the same reference is invalid: 1007 for text', async () => {
    const { client, peer } = await connect('permessage-deflate; server_no_context_takeover');
    peer.write(serverFrame(OP.TEXT, compressMessage(first), { rsv1: true }));
    peer.write(serverFrame(OP.TEXT, secondAgainstFirst, { rsv1: true }));
    expect(await outcome(client, peer)).toEqual({
      closeCode: 1007,
      errors: ['WS_ERR_INVALID_COMPRESSED_DATA'],
      delivered: [first],
    });
  });
});
