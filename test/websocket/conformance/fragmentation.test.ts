// Autobahn 5.x (fragmentation): fragmented messages are reassembled and echoed whole, control frames
// between fragments are answered without disturbing the message, and fragmentation errors fail the
// connection with 1002.
import { describe, expect, it } from 'vitest';
import { asciiText, binaryBytes, expectClose, expectCleanClose, expectEcho } from './assertions.ts';
import { useEchoServer } from './echo-server.ts';
import { frames, OPCODE } from './raw-client.ts';

const { open, errorCodes } = useEchoServer();

/** `data` as a fragmented message: the first frame with `opcode`, continuations after, FIN on the last. */
function fragmented(opcode: number, data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  sizes.forEach((size, i) => {
    const payload = data.subarray(at, (at += size));
    const last = i === sizes.length - 1;
    out.push(
      i === 0
        ? opcode === OPCODE.TEXT
          ? frames.text(payload, { fin: last })
          : frames.binary(payload, { fin: last })
        : frames.continuation(payload, { fin: last }),
    );
  });
  return out;
}

describe('5.x fragmented messages', () => {
  it('reassembles a text message in two fragments', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.text('frag', { fin: false }), frames.continuation('ment')]));
    await expectEcho.text(client, 'fragment');
    await expectCleanClose(client);
  });

  it('reassembles a binary message in two fragments', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([
        frames.binary(Buffer.from([1, 2]), { fin: false }),
        frames.continuation(Buffer.from([3])),
      ]),
    );
    await expectEcho.binary(client, Buffer.from([1, 2, 3]));
    await expectCleanClose(client);
  });

  it('reassembles fragments sent in separate writes', async () => {
    const client = await open();
    const data = Buffer.from(asciiText(300));
    for (const frame of fragmented(OPCODE.TEXT, data, [100, 100, 100])) await client.send(frame);
    await expectEcho.text(client, data);
    await expectCleanClose(client);
  });

  it('reassembles a message whose fragments are all empty but the middle one', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([
        frames.text('', { fin: false }),
        frames.continuation('middle', { fin: false }),
        frames.continuation(''),
      ]),
    );
    await expectEcho.text(client, 'middle');
    await expectCleanClose(client);
  });

  it('echoes an empty message made of empty fragments', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([
        frames.binary('', { fin: false }),
        frames.continuation('', { fin: false }),
        frames.continuation(''),
      ]),
    );
    await expectEcho.binary(client, '');
    await expectCleanClose(client);
  });

  it('reassembles a text message of 1-byte fragments', async () => {
    const client = await open();
    const data = Buffer.from(asciiText(64));
    await client.send(Buffer.concat(fragmented(OPCODE.TEXT, data, Array<number>(64).fill(1))));
    await expectEcho.text(client, data);
    await expectCleanClose(client);
  });

  it('reassembles a binary message of 1-byte fragments sent one byte per write', async () => {
    const client = await open();
    const data = binaryBytes(32);
    await client.send(Buffer.concat(fragmented(OPCODE.BINARY, data, Array<number>(32).fill(1))), 'bytewise');
    await expectEcho.binary(client, data);
    await expectCleanClose(client);
  });

  it('reassembles a 200 KiB binary message in fragments of uneven sizes', async () => {
    const client = await open();
    const data = binaryBytes(200 * 1024);
    await client.send(
      Buffer.concat(fragmented(OPCODE.BINARY, data, [1, 125, 126, 65535, 65536, 204800 - 131183])),
    );
    await expectEcho.binary(client, data);
    await expectCleanClose(client);
  });
});

describe('5.x control frames between fragments', () => {
  it('answers a ping between two fragments, then echoes the message intact', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([
        frames.text('frag', { fin: false }),
        frames.ping('between'),
        frames.continuation('ment'),
      ]),
    );
    // The pong comes first: the message is only complete after the last fragment.
    await expectEcho.pong(client, 'between');
    await expectEcho.text(client, 'fragment');
    await expectCleanClose(client);
  });

  it('answers a ping between fragments sent in separate writes, before the message is complete', async () => {
    const client = await open();
    await client.send(frames.text('frag', { fin: false }));
    await client.send(frames.ping('between'));
    await expectEcho.pong(client, 'between');
    await client.send(frames.continuation('ment'));
    await expectEcho.text(client, 'fragment');
    await expectCleanClose(client);
  });

  it('answers pings between every fragment, sent one byte per write, in order', async () => {
    const client = await open();
    const data = Buffer.from('abcde');
    const pieces = fragmented(OPCODE.TEXT, data, [1, 1, 1, 1, 1]);
    const bytes = Buffer.concat(
      pieces.flatMap((piece, i) => (i < pieces.length - 1 ? [piece, frames.ping(`p${i}`)] : [piece])),
    );
    await client.send(bytes, 'bytewise');
    for (let i = 0; i < 4; i++) await expectEcho.pong(client, `p${i}`);
    await expectEcho.text(client, data);
    await expectCleanClose(client);
  });

  it('ignores a pong between fragments and echoes the message intact', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([
        frames.binary('frag', { fin: false }),
        frames.pong('unsolicited'),
        frames.continuation('ment'),
      ]),
    );
    await expectEcho.binary(client, 'fragment');
    await expectCleanClose(client);
  });

  it('answers a close between fragments with a close, dropping the unfinished message', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.text('frag', { fin: false }), frames.close(1000)]));
    await expectClose(client, 1000);
  });
});

describe('5.x fragmentation errors', () => {
  it('fails the connection with 1002 on a continuation frame with no message started', async () => {
    const client = await open();
    await client.send(frames.continuation('orphan'));
    await expectClose(client, 1002);
    expect(await errorCodes()).toEqual(['WS_ERR_UNEXPECTED_CONTINUATION']);
  });

  it('fails the connection with 1002 on a final continuation frame with no message started', async () => {
    const client = await open();
    await client.send(frames.continuation('orphan', { fin: true }));
    await expectClose(client, 1002);
  });

  it('fails the connection with 1002 on a continuation frame after a complete message', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.text('complete'), frames.continuation('late')]));
    const close = await expectClose(client, 1002, { before: [OPCODE.TEXT] });
    expect(close.before[0]!.data.toString()).toBe('complete');
  });

  it('fails the connection with 1002 on a new text frame while a message is fragmented', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.text('frag', { fin: false }), frames.text('new')]));
    await expectClose(client, 1002);
    expect(await errorCodes()).toEqual(['WS_ERR_EXPECTED_CONTINUATION']);
  });

  it('fails the connection with 1002 on a new binary frame while a message is fragmented', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([frames.binary('frag', { fin: false }), frames.binary('new', { fin: false })]),
    );
    await expectClose(client, 1002);
  });

  it('fails the connection with 1002 on a fragmented ping, without answering it', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.ping('frag', { fin: false }), frames.continuation('ment')]));
    await expectClose(client, 1002);
  });

  it('fails the connection with 1002 on a fragmented pong', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.pong('frag', { fin: false }), frames.continuation('ment')]));
    await expectClose(client, 1002);
  });

  it('fails the connection with 1002 on a fragmented close', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([frames.close(1000, 'frag', { fin: false }), frames.continuation('ment')]),
    );
    await expectClose(client, 1002);
  });

  it('fails the connection with 1002 on a fragmented ping between the fragments of a message', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([
        frames.text('frag', { fin: false }),
        frames.ping('a', { fin: false }),
        frames.continuation('ment'),
      ]),
    );
    await expectClose(client, 1002);
  });
});
