// Autobahn 1.x (framing): text and binary messages of every length encoding boundary are echoed
// exactly, whether the frame arrives in one write or one byte per write.
import { describe, expect, it } from 'vitest';
import { asciiText, binaryBytes, expectCleanClose, expectEcho } from './assertions.ts';
import { useEchoServer } from './echo-server.ts';
import { bytewiseEdges, frames, OPCODE } from './raw-client.ts';

const { open } = useEchoServer();

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];
const MiB = 1024 * 1024;

describe.each([
  { kind: 'text', opcode: OPCODE.TEXT, payload: (length: number) => Buffer.from(asciiText(length)) },
  { kind: 'binary', opcode: OPCODE.BINARY, payload: binaryBytes },
] as const)('1.x $kind messages', ({ kind, opcode, payload }) => {
  const frameOf = kind === 'text' ? frames.text : frames.binary;
  const expectOne = kind === 'text' ? expectEcho.text : expectEcho.binary;

  it.each(LENGTHS)(`echoes a %i-byte ${kind} message exactly`, async (length) => {
    const client = await open();
    const data = payload(length);
    await client.send(frameOf(data));
    const echo = await expectOne(client, data);
    expect(echo.opcode).toBe(opcode);
    await expectCleanClose(client);
  });

  it.each(LENGTHS)(`echoes a %i-byte ${kind} message sent one byte per write`, async (length) => {
    const client = await open();
    const data = payload(length);
    // Every byte alone up to 4 KiB; above, the header and the first and last 2 KiB byte by byte and
    // the middle in 1 KiB writes, so the case stays within seconds.
    const bytes = frameOf(data);
    await client.send(bytes, bytewiseEdges(bytes.length, 2048, 1024));
    await expectOne(client, data);
    await expectCleanClose(client);
  });

  it(`echoes a 1 MiB ${kind} message exactly`, async () => {
    const client = await open();
    const data = payload(MiB);
    await client.send(frameOf(data));
    await expectOne(client, data);
    await expectCleanClose(client);
  });

  it(`echoes a 1 MiB ${kind} message whose header and edges arrive one byte per write`, async () => {
    const client = await open();
    const data = payload(MiB);
    const bytes = frameOf(data);
    await client.send(bytes, bytewiseEdges(bytes.length, 256, 65536));
    await expectOne(client, data);
    await expectCleanClose(client);
  });

  it(`echoes ${kind} messages written back to back in one write, in order`, async () => {
    const client = await open();
    const messages = LENGTHS.map(payload);
    await client.send(Buffer.concat(messages.map((data) => frameOf(data))));
    for (const data of messages) await expectOne(client, data);
    await expectCleanClose(client);
  });
});

describe('1.x length encodings', () => {
  it.each([
    { encoding: 16 as const, length: 5 },
    { encoding: 64 as const, length: 5 },
    { encoding: 64 as const, length: 200 },
  ])(
    'accepts a $length-byte message announced with a non-minimal $encoding-bit length',
    async ({ encoding, length }) => {
      const client = await open();
      const data = binaryBytes(length);
      await client.send(frames.binary(data, { encoding }));
      await expectEcho.binary(client, data);
      await expectCleanClose(client);
    },
  );

  it('unmasks with any masking key, including all zeros and all ones', async () => {
    const client = await open();
    const keys = [
      Buffer.from([0, 0, 0, 0]),
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
      Buffer.from([1, 2, 3, 4]),
    ];
    for (const mask of keys) await client.send(frames.text('Hello, mask', { mask }));
    for (let i = 0; i < keys.length; i++) await expectEcho.text(client, 'Hello, mask');
    await expectCleanClose(client);
  });
});
