// Autobahn 3.x (reserved bits): with no extension negotiated, any frame with RSV1, RSV2 or RSV3 set
// fails the connection with 1002; what came before it is still answered, what comes after is not.
import { describe, expect, it } from 'vitest';
import { expectClose, expectEcho } from './assertions.ts';
import { useEchoServer } from './echo-server.ts';
import { buildFrame, frames, OPCODE, type FrameSpec } from './raw-client.ts';

const { open } = useEchoServer();

const BITS: Array<{ name: string; bits: Partial<FrameSpec> }> = [
  { name: 'RSV1', bits: { rsv1: true } },
  { name: 'RSV2', bits: { rsv2: true } },
  { name: 'RSV3', bits: { rsv3: true } },
  { name: 'RSV1+RSV2', bits: { rsv1: true, rsv2: true } },
  { name: 'RSV1+RSV2+RSV3', bits: { rsv1: true, rsv2: true, rsv3: true } },
];

describe.each(BITS)('3.x $name set', ({ bits }) => {
  it('fails the connection with 1002 on a text frame', async () => {
    const client = await open();
    await client.send(frames.text('Hello', bits));
    await expectClose(client, 1002);
  });

  it('fails the connection with 1002 on a binary frame', async () => {
    const client = await open();
    await client.send(frames.binary(Buffer.from([0, 1, 2, 3]), bits));
    await expectClose(client, 1002);
  });

  it('fails the connection with 1002 on a ping, without answering it', async () => {
    const client = await open();
    await client.send(frames.ping('Hello', bits));
    await expectClose(client, 1002);
  });

  it('fails the connection with 1002 on a close frame', async () => {
    const client = await open();
    await client.send(buildFrame({ opcode: OPCODE.CLOSE, payload: Buffer.from([0x03, 0xe8]), ...bits }));
    await expectClose(client, 1002);
  });

  it('fails the connection with 1002 on a continuation frame of a fragmented message', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.text('Hel', { fin: false }), frames.continuation('lo', bits)]));
    await expectClose(client, 1002);
  });

  it('echoes a valid message written just before the bad frame, then closes with 1002 and answers nothing after', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([
        frames.text('valid'),
        frames.text('invalid', bits),
        frames.ping('after'),
        frames.text('after'),
      ]),
    );
    const close = await expectClose(client, 1002, { before: [OPCODE.TEXT] });
    expect(close.before[0]!.data.toString()).toBe('valid');
  });

  it('echoes a valid message sent separately first, then closes with 1002 on the bad frame sent one byte per write', async () => {
    const client = await open();
    await client.send(frames.text('valid'));
    await expectEcho.text(client, 'valid');
    await client.send(Buffer.concat([frames.binary('invalid', bits), frames.ping('after')]), 'bytewise');
    await expectClose(client, 1002);
  });
});
