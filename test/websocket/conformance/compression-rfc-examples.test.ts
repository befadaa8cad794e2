// RFC 7692 §7.2.3's example messages, byte for byte as the RFC gives them (masked here, as a client
// must): each inflates to "Hello", with a shared window, a stored block, BFINAL set, and two blocks.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { expectCleanClose } from './assertions.ts';
import { CorpusCursor } from './deflate-corpus.ts';
import { useDeflateEchoServer } from './deflate-session.ts';
import { buildFrame, OPCODE } from './raw-client.ts';

const { openDeflate, errorCodes } = useDeflateEchoServer();

const bytes = (...values: number[]) => Buffer.from(values);
const HELLO = Buffer.from('Hello');

const EXAMPLES = [
  {
    section: '7.2.3.1 a message compressed in one block',
    payload: bytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00),
  },
  {
    section: '7.2.3.3 a stored (uncompressed) block',
    payload: bytes(0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00),
  },
  {
    section: '7.2.3.5 two blocks in one message',
    payload: bytes(0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00),
  },
];

describe('RFC 7692 §7.2.3 examples', () => {
  for (const { section, payload } of EXAMPLES) {
    it(`§${section}: inflates to "Hello"`, async () => {
      const connection = await openDeflate('permessage-deflate; client_no_context_takeover', {
        client_no_context_takeover: true,
      });
      await connection.client.send(buildFrame({ opcode: OPCODE.TEXT, payload, rsv1: true }));
      await connection.expectEcho(OPCODE.TEXT, HELLO);
      await expectCleanClose(connection.client);
      expect(await errorCodes()).toEqual([]);
    });
  }

  // The last octet (0x00) begins the empty stored block the appended tail completes: after the
  // final block a new stream starts, as the RFC's example has it.
  it('§7.2.3.4 a block with BFINAL set, then the octet that starts an empty stored block', async () => {
    const connection = await openDeflate('permessage-deflate', {});
    const payload = bytes(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00);
    await connection.client.send(buildFrame({ opcode: OPCODE.TEXT, payload, rsv1: true }));
    await connection.expectEcho(OPCODE.TEXT, HELLO);
    await expectCleanClose(connection.client);
  });

  it('a message ending in a final block (zlib Z_FINISH, nothing after it), twice with context takeover', async () => {
    const connection = await openDeflate('permessage-deflate', {});
    const data = new CorpusCursor('text').next(3000);
    // Each message a whole DEFLATE stream: the receiver starts a new stream after a final block.
    const message = buildFrame({ opcode: OPCODE.TEXT, payload: zlib.deflateRawSync(data), rsv1: true });
    await connection.client.send(Buffer.concat([message, message]));
    await connection.expectEcho(OPCODE.TEXT, data);
    await connection.expectEcho(OPCODE.TEXT, data);
    await expectCleanClose(connection.client);
    expect(await errorCodes()).toEqual([]);
  });

  it('§7.2.3.2 the second "Hello" refers to the first (the shared window)', async () => {
    const connection = await openDeflate('permessage-deflate', {});
    await connection.client.send(
      Buffer.concat([
        buildFrame({
          opcode: OPCODE.TEXT,
          payload: bytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00),
          rsv1: true,
        }),
        buildFrame({ opcode: OPCODE.TEXT, payload: bytes(0xf2, 0x00, 0x11, 0x00, 0x00), rsv1: true }),
      ]),
    );
    await connection.expectEcho(OPCODE.TEXT, HELLO);
    await connection.expectEcho(OPCODE.TEXT, HELLO);
    await expectCleanClose(connection.client);
    expect(await errorCodes()).toEqual([]);
  });

  it('§7.2.3.1 the example split into two frames (RSV1 on the first only)', async () => {
    const connection = await openDeflate('permessage-deflate', {});
    await connection.client.send(
      Buffer.concat([
        buildFrame({ opcode: OPCODE.TEXT, payload: bytes(0xf2, 0x48, 0xcd), rsv1: true, fin: false }),
        buildFrame({ opcode: OPCODE.CONTINUATION, payload: bytes(0xc9, 0xc9, 0x07, 0x00) }),
      ]),
    );
    await connection.expectEcho(OPCODE.TEXT, HELLO);
    await expectCleanClose(connection.client);
  });
});
