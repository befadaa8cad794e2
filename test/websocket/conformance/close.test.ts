// Autobahn 7.x (close handling): the server answers a close frame with one close frame (echoing a
// valid code, never sending 1005 on the wire), sends and answers nothing after it, and closes TCP;
// invalid close payloads fail the connection with 1002 (bad code, 1-byte payload) or 1007 (reason
// not UTF-8).
import { describe, expect, it } from 'vitest';
import {
  binaryBytes,
  expectClose,
  expectCleanClose,
  expectEcho,
  expectNothingMoreBeforeTcpClose,
} from './assertions.ts';
import { useEchoServer } from './echo-server.ts';
import { buildFrame, closeCodeOf, closePayload, frames, OPCODE } from './raw-client.ts';

const { open, server, errorCodes } = useEchoServer();

/** Waits until the server-side socket reported its close event and returns it. */
async function serverCloseEvent(): Promise<{ code: number; reason: string }> {
  await errorCodes(); // resolves once every server-side socket closed
  expect(server().closes).toHaveLength(1);
  return server().closes[0]!;
}

describe('7.1 basic close', () => {
  it('echoes a message, then answers close 1000 with close 1000 and closes TCP with a FIN', async () => {
    const client = await open();
    await client.send(frames.text('Hello'));
    await expectEcho.text(client, 'Hello');
    await expectCleanClose(client);
    expect(await serverCloseEvent()).toEqual({ code: 1000, reason: '' });
  });

  it('answers a close without payload with a close without payload (1005 is never sent)', async () => {
    const client = await open();
    await client.send(frames.close());
    const close = await client.waitForCloseFrame();
    expect(close.before).toEqual([]);
    expect(close.payload.length).toBe(0);
    expect(closeCodeOf(close)).toBeUndefined();
    expect(await expectNothingMoreBeforeTcpClose(client)).toBe('fin');
    expect(await serverCloseEvent()).toEqual({ code: 1005, reason: '' });
  });

  it('answers close 1000 with a reason with close 1000, and reports the reason', async () => {
    const client = await open();
    await client.send(frames.close(1000, 'Going away now'));
    await expectClose(client, 1000);
    expect(await serverCloseEvent()).toEqual({ code: 1000, reason: 'Going away now' });
  });

  it('answers a close with a 123-byte reason (the largest) with close 1000', async () => {
    const client = await open();
    await client.send(frames.close(1000, 'r'.repeat(123)));
    await expectClose(client, 1000);
    expect(await serverCloseEvent()).toEqual({ code: 1000, reason: 'r'.repeat(123) });
  });

  it('answers a close sent one byte per write', async () => {
    const client = await open();
    await client.send(frames.close(1000, 'slowly'), 'bytewise');
    await expectClose(client, 1000);
  });

  it('answers a close written together with a message after echoing the message', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.text('last words'), frames.close(1000)]));
    const close = await expectClose(client, 1000, { before: [OPCODE.TEXT] });
    expect(close.before[0]!.data.toString()).toBe('last words');
  });

  it('sends exactly one close frame when the client sends two', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.close(1000), frames.close(1001)]));
    await expectClose(client, 1000);
  });

  it('ignores data frames, pings and fragments that follow the close frame', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([
        frames.close(1000),
        frames.text('after close'),
        frames.ping('after close'),
        frames.binary('frag', { fin: false }),
        frames.continuation('ment'),
      ]),
    );
    // Only the close comes back: nothing is echoed or answered, and nothing follows it.
    await expectClose(client, 1000);
    expect(server().errors).toEqual([]);
  });

  it('echoes a 256 KiB message written with a close and a ping, then closes without answering the ping', async () => {
    // Autobahn 7.1.6: the close waits behind the echo of the large message; the ping is never answered.
    const client = await open();
    const data = binaryBytes(256 * 1024);
    await client.send(Buffer.concat([frames.binary(data), frames.close(1000), frames.ping('after close')]));
    await expectEcho.binary(client, data);
    await expectClose(client, 1000);
  });

  it('ignores a message sent after the close frame in a later write', async () => {
    const client = await open();
    await client.send(frames.close(1000));
    const close = await client.waitForCloseFrame();
    expect(closeCodeOf(close)).toBe(1000);
    await client.send(Buffer.concat([frames.text('too late'), frames.ping('too late')]));
    expect(await expectNothingMoreBeforeTcpClose(client)).toBe('fin');
  });
});

describe('7.3 close payload length', () => {
  it('fails the connection with 1002 on a close payload of 1 byte', async () => {
    const client = await open();
    await client.send(buildFrame({ opcode: OPCODE.CLOSE, payload: Buffer.from([0x03]) }));
    await expectClose(client, 1002);
  });

  it('fails the connection with 1002 on a close payload of 126 bytes (a 124-byte reason)', async () => {
    const client = await open();
    await client.send(frames.close(1000, 'r'.repeat(124)));
    await expectClose(client, 1002);
    expect(await errorCodes()).toEqual(['WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH']);
  });
});

describe('7.5 close reason UTF-8', () => {
  it('fails the connection with 1007 on a reason that is not UTF-8', async () => {
    const client = await open();
    await client.send(
      frames.close(
        1000,
        Buffer.from([
          0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64,
        ]),
      ),
    );
    await expectClose(client, 1007);
    expect(await errorCodes()).toEqual(['WS_ERR_INVALID_UTF8']);
  });

  it('fails the connection with 1007 on a reason ending inside a UTF-8 sequence', async () => {
    const client = await open();
    await client.send(frames.close(1000, Buffer.from([0x61, 0x62, 0xe2, 0x82])));
    await expectClose(client, 1007);
  });

  it('answers a close whose reason is multi-byte UTF-8 with the same code', async () => {
    const client = await open();
    await client.send(frames.close(1001, 'κόσμε 😀'));
    await expectClose(client, 1001);
    expect(await serverCloseEvent()).toEqual({ code: 1001, reason: 'κόσμε 😀' });
  });
});

describe('7.7 valid close codes are echoed', () => {
  const VALID = [
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
  ];
  it.each(VALID)('answers close %i with close %i', async (code) => {
    const client = await open();
    await client.send(buildFrame({ opcode: OPCODE.CLOSE, payload: closePayload(code, 'reason') }));
    await expectClose(client, code);
    expect(await serverCloseEvent()).toEqual({ code, reason: 'reason' });
  });
});

describe('7.9 invalid close codes fail the connection', () => {
  const INVALID = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
  it.each(INVALID)('answers close %i with close 1002', async (code) => {
    const client = await open();
    await client.send(frames.close(code));
    await expectClose(client, 1002);
  });
});
