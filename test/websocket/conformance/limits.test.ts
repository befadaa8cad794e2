// Autobahn 9.x-style limits and masking: a message of exactly maxPayload is echoed, one byte more
// closes with 1009 as soon as the length is known; more than maxFragments frames close with 1009; a
// 64-bit length with the top bit set closes with 1002 (docs/errors.md); unmasked frames close with 1002.
import { describe, expect, it } from 'vitest';
import { binaryBytes, expectClose, expectCleanClose, expectEcho, asciiText } from './assertions.ts';
import { useEchoServer } from './echo-server.ts';
import { buildFrame, frames, OPCODE } from './raw-client.ts';

const MAX_PAYLOAD = 1000;
const MAX_FRAGMENTS = 8;

/** A message of `sizes.length` frames carrying `data` cut at `sizes`. */
function fragments(opcode: number, data: Buffer, sizes: number[]): Buffer {
  let at = 0;
  return Buffer.concat(
    sizes.map((size, i) =>
      buildFrame({
        opcode: i === 0 ? opcode : OPCODE.CONTINUATION,
        payload: data.subarray(at, (at += size)),
        fin: i === sizes.length - 1,
      }),
    ),
  );
}

describe(`9.x limits with maxPayload ${MAX_PAYLOAD} and maxFragments ${MAX_FRAGMENTS}`, () => {
  const { open, errorCodes } = useEchoServer({ maxPayload: MAX_PAYLOAD, maxFragments: MAX_FRAGMENTS });

  it('echoes a text message of exactly maxPayload bytes', async () => {
    const client = await open();
    const data = Buffer.from(asciiText(MAX_PAYLOAD));
    await client.send(frames.text(data));
    await expectEcho.text(client, data);
    await expectCleanClose(client);
  });

  it('echoes a binary message of exactly maxPayload bytes in 4 fragments', async () => {
    const client = await open();
    const data = binaryBytes(MAX_PAYLOAD);
    await client.send(fragments(OPCODE.BINARY, data, [1, 499, 400, 100]));
    await expectEcho.binary(client, data);
    await expectCleanClose(client);
  });

  it('fails the connection with 1009 on a message of maxPayload + 1 bytes', async () => {
    const client = await open();
    await client.send(frames.binary(binaryBytes(MAX_PAYLOAD + 1)));
    await expectClose(client, 1009);
    expect(await errorCodes()).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });

  it('fails the connection with 1009 from the header alone, before any payload byte of an oversized frame', async () => {
    const client = await open();
    await client.send(buildFrame({ opcode: OPCODE.TEXT, length: MAX_PAYLOAD + 1 }));
    await expectClose(client, 1009);
  });

  it('fails the connection with 1009 when the fragments together exceed maxPayload by one byte', async () => {
    const client = await open();
    await client.send(fragments(OPCODE.TEXT, Buffer.from(asciiText(MAX_PAYLOAD + 1)), [500, 500, 1]));
    await expectClose(client, 1009);
    expect(await errorCodes()).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });

  it('fails the connection with 1009 on the fragment header that passes maxPayload, before its payload', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([
        frames.binary(binaryBytes(600), { fin: false }),
        buildFrame({ opcode: OPCODE.CONTINUATION, length: 401 }),
      ]),
    );
    await expectClose(client, 1009);
  });

  it('echoes a message of exactly maxFragments frames', async () => {
    const client = await open();
    const data = Buffer.from(asciiText(MAX_FRAGMENTS));
    await client.send(fragments(OPCODE.TEXT, data, Array<number>(MAX_FRAGMENTS).fill(1)));
    await expectEcho.text(client, data);
    await expectCleanClose(client);
  });

  it('fails the connection with 1009 on a message of maxFragments + 1 frames', async () => {
    const client = await open();
    const data = Buffer.from(asciiText(MAX_FRAGMENTS + 1));
    await client.send(fragments(OPCODE.TEXT, data, Array<number>(MAX_FRAGMENTS + 1).fill(1)));
    await expectClose(client, 1009);
    expect(await errorCodes()).toEqual(['WS_ERR_TOO_MANY_FRAGMENTS']);
  });

  it('fails the connection with 1009 on maxFragments + 1 empty frames', async () => {
    const client = await open();
    await client.send(fragments(OPCODE.BINARY, Buffer.alloc(0), Array<number>(MAX_FRAGMENTS + 1).fill(0)));
    await expectClose(client, 1009);
  });

  it('counts fragments per message: two messages of maxFragments frames each are echoed', async () => {
    const client = await open();
    const data = binaryBytes(MAX_FRAGMENTS);
    const message = fragments(OPCODE.BINARY, data, Array<number>(MAX_FRAGMENTS).fill(1));
    await client.send(Buffer.concat([message, message]));
    await expectEcho.binary(client, data);
    await expectEcho.binary(client, data);
    await expectCleanClose(client);
  });
});

describe('9.x huge lengths and masking with the default limits', () => {
  const { open, errorCodes } = useEchoServer();

  it('fails the connection with 1002 on a 64-bit length of 2^63 (top bit set)', async () => {
    const client = await open();
    await client.send(buildFrame({ opcode: OPCODE.BINARY, length: 2n ** 63n }));
    await expectClose(client, 1002);
    expect(await errorCodes()).toEqual(['WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH']);
  });

  it('fails the connection with 1002 on a 64-bit length of 2^64 - 1', async () => {
    const client = await open();
    await client.send(buildFrame({ opcode: OPCODE.TEXT, length: 2n ** 64n - 1n }));
    await expectClose(client, 1002);
  });

  it('fails the connection with 1009 on a 64-bit length of 2^63 - 1 (valid, but above maxPayload)', async () => {
    const client = await open();
    await client.send(buildFrame({ opcode: OPCODE.BINARY, length: 2n ** 63n - 1n }));
    await expectClose(client, 1009);
  });

  it('fails the connection with 1009 on a frame announcing 100 MiB + 1 (the default maxPayload)', async () => {
    const client = await open();
    await client.send(buildFrame({ opcode: OPCODE.BINARY, length: 100 * 1024 * 1024 + 1 }));
    await expectClose(client, 1009);
  });

  it('fails the connection with 1002 on an unmasked text frame', async () => {
    const client = await open();
    await client.send(frames.text('unmasked', { mask: false }));
    await expectClose(client, 1002);
    expect(await errorCodes()).toEqual(['WS_ERR_EXPECTED_MASK']);
  });

  it('fails the connection with 1002 on an unmasked ping, without answering it', async () => {
    const client = await open();
    await client.send(frames.ping('unmasked', { mask: false }));
    await expectClose(client, 1002);
  });

  it('fails the connection with 1002 on an unmasked close frame', async () => {
    const client = await open();
    await client.send(frames.close(1000, '', { mask: false }));
    await expectClose(client, 1002);
  });

  it('fails the connection with 1002 on an unmasked continuation frame, after echoing nothing', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([frames.text('frag', { fin: false }), frames.continuation('ment', { mask: false })]),
    );
    await expectClose(client, 1002);
  });
});
