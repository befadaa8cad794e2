// Autobahn 4.x (opcodes): the reserved non-control opcodes 3–7 and control opcodes 0xB–0xF fail the
// connection with 1002, with or without payload; a valid message before one is still echoed.
import { describe, expect, it } from 'vitest';
import { binaryBytes, expectClose } from './assertions.ts';
import { useEchoServer } from './echo-server.ts';
import { buildFrame, frames, OPCODE } from './raw-client.ts';

const { open, errorCodes } = useEchoServer();

const RESERVED = [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf];
const hex = (opcode: number) => `0x${opcode.toString(16).toUpperCase()}`;

describe.each(RESERVED.map((opcode) => ({ opcode, name: hex(opcode) })))(
  '4.x reserved opcode $name',
  ({ opcode }) => {
    it('fails the connection with 1002 on a frame without payload', async () => {
      const client = await open();
      await client.send(buildFrame({ opcode }));
      await expectClose(client, 1002);
      expect(await errorCodes()).toEqual(['WS_ERR_INVALID_OPCODE']);
    });

    it('fails the connection with 1002 on a frame with payload, after echoing the message before it', async () => {
      const client = await open();
      await client.send(
        Buffer.concat([
          frames.text('before'),
          buildFrame({ opcode, payload: binaryBytes(20) }),
          frames.ping('after'),
        ]),
      );
      const close = await expectClose(client, 1002, { before: [OPCODE.TEXT] });
      expect(close.before[0]!.data.toString()).toBe('before');
    });

    it('fails the connection with 1002 on a frame with FIN clear, sent one byte per write', async () => {
      const client = await open();
      await client.send(buildFrame({ opcode, payload: 'fragment', fin: false }), 'bytewise');
      await expectClose(client, 1002);
    });
  },
);
