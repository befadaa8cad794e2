// permessage-deflate failures (beyond Autobahn, which has no negative compression cases): RSV1
// where RFC 7692 §6 does not allow it, data that does not inflate, a message that inflates past
// maxPayload, inflated text that is not UTF-8, a client breaking the no-context-takeover it agreed
// to; and the edges that must work: control frames inside a compressed message, an uncompressed
// message on a compressed connection, a compressed message written one byte at a time.
//
// npm ws (CONFORMANCE_IMPL=ws) closes with 1007 for any data that does not inflate and reports
// zlib's code; this server closes with 1002 for binary (there is no invalid payload data to speak of
// before inflating) and reports WS_ERR_INVALID_COMPRESSED_DATA.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { asciiText, expectClose, expectCleanClose, expectEcho } from './assertions.ts';
import { CorpusCursor } from './deflate-corpus.ts';
import { useDeflateEchoServer } from './deflate-session.ts';
import { IMPLEMENTATION } from './echo-server.ts';
import { buildFrame, frames, OPCODE } from './raw-client.ts';

const OFFER = 'permessage-deflate; client_max_window_bits';
const MAX_PAYLOAD = 64 * 1024;

const { openDeflate, open, errorCodes } = useDeflateEchoServer({}, { maxPayload: MAX_PAYLOAD });

/** `data` deflated with a fresh context, flush tail removed: a first message's payload. */
function deflated(data: Buffer | string): Buffer {
  const out = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, -4);
}

const byImplementation = <T>(ours: T, ws: T): T => (IMPLEMENTATION === 'ws' ? ws : ours);
const INVALID_DATA_CODE = byImplementation('WS_ERR_INVALID_COMPRESSED_DATA', 'Z_DATA_ERROR');

describe('RSV1 where permessage-deflate does not allow it: 1002', () => {
  it('on the continuation frame of a compressed message', async () => {
    const { client } = await openDeflate(OFFER, {});
    const payload = deflated(asciiText(200));
    await client.send(
      Buffer.concat([
        frames.text(payload.subarray(0, 10), { fin: false, rsv1: true }),
        frames.continuation(payload.subarray(10), { rsv1: true }),
      ]),
    );
    await expectClose(client, 1002);
    expect(await errorCodes()).toEqual(['WS_ERR_UNEXPECTED_RSV_1']);
  });

  it('on the continuation frame of an uncompressed message', async () => {
    const { client } = await openDeflate(OFFER, {});
    await client.send(
      Buffer.concat([frames.binary('plain', { fin: false }), frames.continuation('more', { rsv1: true })]),
    );
    await expectClose(client, 1002);
    expect(await errorCodes()).toEqual(['WS_ERR_UNEXPECTED_RSV_1']);
  });

  const controlFrames = [
    { name: 'a ping, which is not answered', frame: () => frames.ping(deflated('ping'), { rsv1: true }) },
    { name: 'a pong', frame: () => frames.pong(deflated('pong'), { rsv1: true }) },
    { name: 'a close frame', frame: () => frames.close(1000, '', { rsv1: true }) },
  ];
  for (const { name, frame } of controlFrames) {
    it(`on ${name}`, async () => {
      const { client } = await openDeflate(OFFER, {});
      await client.send(frame());
      await expectClose(client, 1002);
      expect(await errorCodes()).toEqual(['WS_ERR_UNEXPECTED_RSV_1']);
    });
  }

  it('on a data frame of a connection that did not offer compression (the server has it on)', async () => {
    const client = await open();
    expect(client.frames).toEqual([]);
    await client.send(frames.text(deflated('Hello'), { rsv1: true }));
    await expectClose(client, 1002);
    expect(await errorCodes()).toEqual(['WS_ERR_UNEXPECTED_RSV_1']);
  });

  it('RSV2 stays an error with compression agreed', async () => {
    const { client } = await openDeflate(OFFER, {});
    await client.send(frames.text(deflated('Hello'), { rsv1: true, rsv2: true }));
    await expectClose(client, 1002);
    expect(await errorCodes()).toEqual(['WS_ERR_UNEXPECTED_RSV_2_3']);
  });
});

describe('data that does not inflate', () => {
  const INVALID = Buffer.from([0xff, 0xff, 0xff, 0xff]);

  it('fails a text message with 1007', async () => {
    const { client } = await openDeflate(OFFER, {});
    await client.send(frames.text(INVALID, { rsv1: true }));
    await expectClose(client, 1007);
    expect(await errorCodes()).toEqual([INVALID_DATA_CODE]);
  });

  it(`fails a binary message with ${byImplementation(1002, 1007)}`, async () => {
    const { client } = await openDeflate(OFFER, {});
    await client.send(frames.binary(INVALID, { rsv1: true }));
    await expectClose(client, byImplementation(1002, 1007));
    expect(await errorCodes()).toEqual([INVALID_DATA_CODE]);
  });

  it('fails a text message cut short inside a DEFLATE block with 1007', async () => {
    const { client } = await openDeflate(OFFER, {});
    const whole = deflated(asciiText(3000));
    await client.send(frames.text(whole.subarray(0, whole.length >> 1), { rsv1: true }));
    await expectClose(client, 1007);
    expect(await errorCodes()).toEqual([INVALID_DATA_CODE]);
  });

  it('fails after echoing the valid message before it, answering nothing after it', async () => {
    const connection = await openDeflate(OFFER, {});
    const valid = Buffer.from('valid');
    await connection.send(OPCODE.TEXT, valid);
    await connection.expectEcho(OPCODE.TEXT, valid);
    await connection.client.send(
      Buffer.concat([frames.text(INVALID, { rsv1: true }), frames.ping('after'), frames.text('after')]),
    );
    await expectClose(connection.client, 1007);
  });

  it('fails a message that refers to the previous one after client_no_context_takeover was agreed', async () => {
    const { client } = await openDeflate('permessage-deflate; client_no_context_takeover', {
      client_no_context_takeover: true,
    });
    const text = asciiText(300);
    const keeper = zlib.createDeflateRaw();
    const flushed = (data: string) =>
      new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        keeper.on('data', (chunk: Buffer) => chunks.push(chunk));
        keeper.write(data);
        keeper.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          keeper.removeAllListeners('data');
          resolve(Buffer.concat(chunks).subarray(0, -4));
        });
      });
    const first = await flushed(text);
    const second = await flushed(text); // all back-references into the first message
    keeper.close();
    await client.send(
      Buffer.concat([frames.text(first, { rsv1: true }), frames.text(second, { rsv1: true })]),
    );
    const close = await expectClose(client, 1007, { before: [OPCODE.TEXT] });
    expect(
      zlib.inflateRawSync(close.before[0]!.data, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString(),
    ).toBe(text);
    expect(await errorCodes()).toEqual([INVALID_DATA_CODE]);
  });
});

describe(`inflated size against maxPayload (${MAX_PAYLOAD})`, () => {
  it('echoes a message that inflates to exactly maxPayload bytes', async () => {
    const connection = await openDeflate(OFFER, {});
    const data = Buffer.alloc(MAX_PAYLOAD, 0x61);
    await connection.send(OPCODE.TEXT, data);
    await connection.expectEcho(OPCODE.TEXT, data);
    await expectCleanClose(connection.client);
  });

  it('fails with 1009 a message that inflates to maxPayload + 1 bytes', async () => {
    const { client } = await openDeflate(OFFER, {});
    await client.send(frames.binary(deflated(Buffer.alloc(MAX_PAYLOAD + 1)), { rsv1: true }));
    await expectClose(client, 1009);
    expect(await errorCodes()).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });

  it('fails with 1009 a zip bomb: 32 MiB of zeros in ~32 KiB of fragments', async () => {
    const { client } = await openDeflate(OFFER, {});
    const bomb = deflated(Buffer.alloc(32 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(MAX_PAYLOAD);
    const cut = bomb.length >> 1;
    await client.send(
      Buffer.concat([
        frames.text(bomb.subarray(0, cut), { fin: false, rsv1: true }),
        frames.continuation(bomb.subarray(cut)),
      ]),
    );
    await expectClose(client, 1009);
    expect(await errorCodes()).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });
});

describe('inflated text that is not UTF-8', () => {
  it('fails with 1007', async () => {
    const { client } = await openDeflate(OFFER, {});
    await client.send(frames.text(deflated(Buffer.from([0x48, 0x69, 0xc3, 0x28])), { rsv1: true }));
    await expectClose(client, 1007);
    expect(await errorCodes()).toEqual(['WS_ERR_INVALID_UTF8']);
  });

  it('fails with 1007 when the message ends inside a character', async () => {
    const { client } = await openDeflate(OFFER, {});
    await client.send(frames.text(deflated(Buffer.from([0x48, 0xe6, 0x97])), { rsv1: true }));
    await expectClose(client, 1007);
    expect(await errorCodes()).toEqual(['WS_ERR_INVALID_UTF8']);
  });

  it('echoes text whose characters are cut by the compressed fragments, not by the message', async () => {
    const connection = await openDeflate(OFFER, {});
    const data = Buffer.from('日本語のテキスト🙂'.repeat(40));
    await connection.send(OPCODE.TEXT, data, 3);
    await connection.expectEcho(OPCODE.TEXT, data);
    await expectCleanClose(connection.client);
  });
});

describe('what must work on a compressed connection', () => {
  it('answers a ping between the fragments of a compressed message, then echoes it', async () => {
    const connection = await openDeflate(OFFER, {});
    const data = new CorpusCursor('text').next(3000);
    const payload = deflated(data);
    const cut = payload.length >> 1;
    await connection.client.send(
      Buffer.concat([
        frames.text(payload.subarray(0, cut), { fin: false, rsv1: true }),
        frames.ping('between'),
        frames.continuation(payload.subarray(cut)),
      ]),
    );
    await expectEcho.pong(connection.client, 'between');
    await connection.expectEcho(OPCODE.TEXT, data);
    await expectCleanClose(connection.client);
  });

  it('answers pings between every fragment, sent one byte per write', async () => {
    const connection = await openDeflate(OFFER, {});
    const data = new CorpusCursor('binary').next(600);
    const payload = deflated(data);
    const pieces = [0, 1, 2, 3].map((i) =>
      payload.subarray((i * payload.length) >> 2, ((i + 1) * payload.length) >> 2),
    );
    const bytes = pieces.flatMap((piece, i) => [
      buildFrame({
        opcode: i === 0 ? OPCODE.BINARY : OPCODE.CONTINUATION,
        payload: piece,
        rsv1: i === 0,
        fin: i === 3,
      }),
      ...(i < 3 ? [frames.ping(`p${i}`)] : []),
    ]);
    await connection.client.send(Buffer.concat(bytes), 'bytewise');
    for (let i = 0; i < 3; i++) await expectEcho.pong(connection.client, `p${i}`);
    await connection.expectEcho(OPCODE.BINARY, data);
    await expectCleanClose(connection.client);
  });

  it('echoes an uncompressed message (RSV1 clear) compressed, between compressed ones', async () => {
    const connection = await openDeflate(OFFER, {});
    const cursor = new CorpusCursor('text');
    const [a, b, c] = [cursor.next(500), cursor.next(500), cursor.next(500)];
    await connection.send(OPCODE.TEXT, a);
    await connection.client.send(frames.text(b));
    await connection.send(OPCODE.TEXT, c);
    for (const data of [a, b, c]) await connection.expectEcho(OPCODE.TEXT, data);
    await expectCleanClose(connection.client);
  });

  it('echoes the empty compressed message (a single 0x00 byte, RFC 7692 §7.2.3.6)', async () => {
    const connection = await openDeflate(OFFER, {});
    await connection.client.send(frames.binary(Buffer.from([0x00]), { rsv1: true }));
    await connection.expectEcho(OPCODE.BINARY, Buffer.alloc(0));
    await expectCleanClose(connection.client);
  });
});
