// The client without context takeover (client_no_context_takeover agreed): the server may inflate
// such a message in one step once its last frame is in, so the limits, control frames and errors
// are checked here on fragmented messages of that kind; and the edges of any compressed
// connection: frames written with the handshake, an empty compressed payload.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { expectClose, expectCleanClose, expectEcho } from './assertions.ts';
import { CorpusCursor } from './deflate-corpus.ts';
import { MessageDecompressor } from './deflate-peer.ts';
import { useDeflateEchoServer, type DeflateConnection } from './deflate-session.ts';
import { IMPLEMENTATION } from './echo-server.ts';
import { frames, handshakeRequest, OPCODE } from './raw-client.ts';

const MAX_PAYLOAD = 100_000;
const OFFER = 'permessage-deflate; client_no_context_takeover';
const ANSWER = { client_no_context_takeover: true } as const;

const { openDeflate, connect, errorCodes } = useDeflateEchoServer({}, { maxPayload: MAX_PAYLOAD });

const open = () => openDeflate(OFFER, ANSWER);

/** `payload` as a message of frames of `size` bytes, RSV1 on the first; `between` after each but the last. */
function fragmentsOf(opcode: number, payload: Buffer, size: number, between?: (i: number) => Buffer) {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < payload.length; at += size, i++) {
    const last = at + size >= payload.length;
    const piece = payload.subarray(at, at + size);
    out.push(
      at === 0
        ? (opcode === OPCODE.TEXT ? frames.text : frames.binary)(piece, { fin: last, rsv1: true })
        : frames.continuation(piece, { fin: last }),
    );
    if (!last && between) out.push(between(i));
  }
  return Buffer.concat(out);
}

async function sendFragmented(connection: DeflateConnection, opcode: number, data: Buffer, size: number) {
  await connection.client.send(fragmentsOf(opcode, await connection.compress(data), size));
}

describe(`client_no_context_takeover, maxPayload ${MAX_PAYLOAD}`, () => {
  it('echoes messages that inflate to exactly maxPayload bytes, in 5-, 50- and 997-byte fragments', async () => {
    const connection = await open();
    const cursor = new CorpusCursor('text');
    for (const size of [997, 50, 5]) {
      const data = cursor.next(MAX_PAYLOAD);
      expect(data.length).toBe(MAX_PAYLOAD);
      await sendFragmented(connection, OPCODE.TEXT, data, size);
      await connection.expectEcho(OPCODE.TEXT, data);
    }
    await expectCleanClose(connection.client);
    expect(await errorCodes()).toEqual([]);
  });

  it('fails with 1009 a fragmented message that inflates to maxPayload + 1 bytes', async () => {
    const connection = await open();
    await sendFragmented(connection, OPCODE.BINARY, Buffer.alloc(MAX_PAYLOAD + 1, 7), 10);
    await expectClose(connection.client, 1009);
    expect(await errorCodes()).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });

  it('fails with 1009 a compressed message larger than maxPayload on the wire', async () => {
    const connection = await open();
    const noise = zlib.deflateRawSync(Buffer.alloc(1), { level: 0 }); // a valid start, then too much
    await connection.client.send(
      Buffer.concat([
        frames.binary(noise, { fin: false, rsv1: true }),
        frames.continuation(Buffer.alloc(MAX_PAYLOAD)),
      ]),
    );
    await expectClose(connection.client, 1009);
  });

  it('answers pings between fragments before the message is echoed', async () => {
    const connection = await open();
    const data = new CorpusCursor('binary').next(30_000);
    const payload = await connection.compress(data);
    const size = Math.ceil(payload.length / 4);
    await connection.client.send(fragmentsOf(OPCODE.BINARY, payload, size, (i) => frames.ping(`p${i}`)));
    for (let i = 0; i < 3; i++) await expectEcho.pong(connection.client, `p${i}`);
    await connection.expectEcho(OPCODE.BINARY, data);
    await expectCleanClose(connection.client);
  });

  it('fails with 1007 a fragmented text message that inflates to invalid UTF-8', async () => {
    const connection = await open();
    const data = Buffer.concat([Buffer.from(new CorpusCursor('text').next(5000)), Buffer.from([0xc0, 0x80])]);
    await sendFragmented(connection, OPCODE.TEXT, data, 300);
    await expectClose(connection.client, 1007);
    expect(await errorCodes()).toEqual(['WS_ERR_INVALID_UTF8']);
  });

  it('answers a close between the fragments of a compressed message with a close', async () => {
    const connection = await open();
    const payload = await connection.compress(new CorpusCursor('text').next(5000));
    await connection.client.send(
      Buffer.concat([frames.text(payload.subarray(0, 100), { fin: false, rsv1: true }), frames.close(1000)]),
    );
    await expectClose(connection.client, 1000);
    expect(await errorCodes()).toEqual([]);
  });
});

describe('edges of any compressed connection', () => {
  it('inflates compressed frames written in the same write as the handshake', async () => {
    const client = await connect();
    const data = new CorpusCursor('text').next(2000);
    const compressed = zlib
      .deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
      .subarray(0, -4);
    const { text } = handshakeRequest({ headers: { 'Sec-WebSocket-Extensions': OFFER } });
    await client.send(
      Buffer.concat([Buffer.from(text, 'latin1'), frames.text(compressed, { rsv1: true }), frames.ping('x')]),
    );
    const response = await client.readResponseHead();
    expect(response.statusCode).toBe(101);
    expect(response.headers['sec-websocket-extensions']).toBe(
      'permessage-deflate; client_no_context_takeover',
    );
    const echo = await client.readMessage();
    expect(client.frames[0]!.rsv1).toBe(true);
    expect((await new MessageDecompressor(15, false).decompress(echo.data)).equals(data)).toBe(true);
    await expectEcho.pong(client, 'x');
    await expectCleanClose(client);
  });

  for (const takeover of [true, false]) {
    it(`echoes a compressed message of no bytes at all as empty, then the next one (${takeover ? 'with' : 'without'} takeover)`, async () => {
      const connection = takeover ? await openDeflate('permessage-deflate', {}) : await open();
      const data = new CorpusCursor('text').next(700);
      await connection.client.send(frames.binary(Buffer.alloc(0), { rsv1: true }));
      await connection.send(OPCODE.TEXT, data);
      await connection.expectEcho(OPCODE.BINARY, Buffer.alloc(0));
      if (takeover && IMPLEMENTATION === 'ws') {
        // ws feeds the lone tail to its inflater, which takes it as the start of a stored block
        // and fails the next message ("invalid stored block lengths").
        return void (await expectClose(connection.client, 1007));
      }
      await connection.expectEcho(OPCODE.TEXT, data);
      await expectCleanClose(connection.client);
    });
  }
});
