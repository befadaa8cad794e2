// Autobahn 12.x (permessage-deflate, the default offer): messages of 16 bytes to 128 KiB, text and
// binary, sent compressed one after the other (each the next slice of a corpus, as Autobahn sends
// slices of real files), whole or cut into frames; each echo must come back compressed (RSV1 on its
// first frame only), with back-references inside the 32 KiB window, and inflate to exactly what was
// sent. Both directions keep their context (nothing in the offer or answer resets it), so the
// server's decompressor must follow the client's context from message to message, and the client's
// its. Message counts are smaller than Autobahn's 1000 so the group stays fast on a busy machine.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectCleanClose } from './assertions.ts';
import { CorpusCursor } from './deflate-corpus.ts';
import { useDeflateEchoServer } from './deflate-session.ts';
import { bytewiseEdges, frames, OPCODE } from './raw-client.ts';

/** What browsers and ws's client offer: compression, and "you may limit my window". */
const DEFAULT_OFFER = 'permessage-deflate; client_max_window_bits';

/** [message size, message count, fragment size (0: one frame)], after Autobahn's MSG_SIZES. */
const MESSAGE_PLANS: Array<[number, number, number]> = [
  [16, 100, 0],
  [64, 100, 0],
  [256, 80, 0],
  [1024, 50, 0],
  [4096, 30, 0],
  [8192, 20, 0],
  [16384, 12, 0],
  [32768, 8, 0],
  [65536, 5, 0],
  [131072, 4, 0],
  [8192, 20, 256],
  [16384, 12, 256],
  [65536, 5, 256],
  [131072, 4, 1024],
  [131072, 4, 4096],
  [131072, 4, 32768],
];

const { openDeflate, errorCodes } = useDeflateEchoServer();

const GROUPS = [
  { kind: 'text' as const, opcode: OPCODE.TEXT, group: '12.1' },
  { kind: 'binary' as const, opcode: OPCODE.BINARY, group: '12.2' },
];

for (const { kind, opcode, group } of GROUPS) {
  describe(`${group}: ${kind} messages with the default offer and context takeover`, () => {
    MESSAGE_PLANS.forEach(([size, count, fragmentSize], i) => {
      const cut = fragmentSize === 0 ? 'one frame each' : `cut into frames of ${fragmentSize} bytes`;
      it(`${group}.${i + 1}: ${count} messages of ${size} bytes, ${cut}`, async () => {
        const connection = await openDeflate(DEFAULT_OFFER, {});
        const cursor = new CorpusCursor(kind);
        for (let n = 0; n < count; n++) {
          const data = cursor.next(size);
          await connection.send(opcode, data, fragmentSize);
          await connection.expectEcho(opcode, data);
        }
        await expectCleanClose(connection.client);
        expect(await errorCodes()).toEqual([]);
      });
    });
  });
}

describe('12.x: messages written back to back, before any echo is read', () => {
  it('echoes 60 text messages of mixed sizes sent in one write, in order, each compressed', async () => {
    const connection = await openDeflate(DEFAULT_OFFER, {});
    const cursor = new CorpusCursor('text');
    const sizes = Array.from({ length: 60 }, (_, i) => [16, 300, 5000, 70000][i % 4]!);
    const sent = sizes.map((size) => cursor.next(size));
    const encoded: Buffer[] = [];
    for (const data of sent)
      encoded.push(await connection.encode(OPCODE.TEXT, data, data.length > 4096 ? 1000 : 0));
    await connection.client.send(Buffer.concat(encoded));
    for (const data of sent) await connection.expectEcho(OPCODE.TEXT, data);
    await expectCleanClose(connection.client);
    expect(await errorCodes()).toEqual([]);
  });

  it('echoes an empty message and a 1-byte message between larger ones', async () => {
    const connection = await openDeflate(DEFAULT_OFFER, {});
    const cursor = new CorpusCursor('binary');
    const sent = [cursor.next(2000), Buffer.alloc(0), cursor.next(1), Buffer.alloc(0), cursor.next(2000)];
    for (const data of sent) await connection.send(OPCODE.BINARY, data);
    for (const data of sent) await connection.expectEcho(OPCODE.BINARY, data);
    await expectCleanClose(connection.client);
  });
});

describe('12.x: the server keeps its context when it may', () => {
  it('echoes a repeated 2000-byte text far smaller the second time (it refers to the first)', async () => {
    const connection = await openDeflate(DEFAULT_OFFER, {});
    const data = new CorpusCursor('text').next(2000);
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      await connection.send(OPCODE.TEXT, data);
      sizes.push(await connection.expectEcho(OPCODE.TEXT, data));
    }
    expect(sizes[1], `echo sizes ${sizes.join(', ')}`).toBeLessThan(sizes[0]! / 4);
    await expectCleanClose(connection.client);
  });
});

describe('12.x edges: sizes, writes and fragment shapes Autobahn does not send', () => {
  it('echoes a 1 MiB text message and a 1 MiB binary message (64-bit lengths both ways)', async () => {
    const connection = await openDeflate(DEFAULT_OFFER, {});
    for (const [kind, opcode] of [
      ['text', OPCODE.TEXT],
      ['binary', OPCODE.BINARY],
    ] as const) {
      const cursor = new CorpusCursor(kind);
      const data = Buffer.concat(Array.from({ length: 4 }, () => cursor.next(256 * 1024)));
      await connection.send(opcode, data, 300_000);
      await connection.expectEcho(opcode, data);
    }
    await expectCleanClose(connection.client);
  });

  it('echoes messages inflating to sizes around powers of two', async () => {
    const connection = await openDeflate(DEFAULT_OFFER, {});
    const cursor = new CorpusCursor('binary');
    for (const size of [16383, 16384, 16385, 65535, 65536, 65537, 262143, 262144, 262145]) {
      const data = cursor.next(size);
      await connection.send(OPCODE.BINARY, data);
      await connection.expectEcho(OPCODE.BINARY, data);
    }
    await expectCleanClose(connection.client);
  });

  it('echoes incompressible data (the compressed form is larger than the message)', async () => {
    const connection = await openDeflate(DEFAULT_OFFER, {});
    for (const size of [1, 100, 70_000]) {
      const data = randomBytes(size);
      await connection.send(OPCODE.BINARY, data);
      const wireSize = await connection.expectEcho(OPCODE.BINARY, data);
      expect(wireSize).toBeGreaterThanOrEqual(size);
    }
    await expectCleanClose(connection.client);
  });

  it('inflates compressed messages written one byte per write at their edges, keeping the context', async () => {
    const connection = await openDeflate(DEFAULT_OFFER, {});
    const cursor = new CorpusCursor('text');
    for (const size of [3000, 3000, 20_000]) {
      const data = cursor.next(size);
      const bytes = await connection.encode(OPCODE.TEXT, data, 1500);
      await connection.client.send(bytes, bytewiseEdges(bytes.length, 40, 97));
      await connection.expectEcho(OPCODE.TEXT, data);
    }
    await expectCleanClose(connection.client);
  });

  it('inflates a compressed message whose first and last frames are empty', async () => {
    const connection = await openDeflate(DEFAULT_OFFER, {});
    const data = new CorpusCursor('text').next(4000);
    const payload = await connection.compress(data);
    await connection.client.send(
      Buffer.concat([
        frames.text('', { fin: false, rsv1: true }),
        frames.continuation(payload.subarray(0, 100), { fin: false }),
        frames.continuation('', { fin: false }),
        frames.continuation(payload.subarray(100), { fin: false }),
        frames.continuation(''),
      ]),
    );
    await connection.expectEcho(OPCODE.TEXT, data);
    await expectCleanClose(connection.client);
  });
});
