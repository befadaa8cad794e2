// Autobahn 2.x (pings and pongs): a ping is answered by a pong with the same payload, in order;
// unsolicited pongs are ignored; a ping over 125 bytes or fragmented fails the connection with 1002.
import { describe, expect, it } from 'vitest';
import { binaryBytes, expectClose, expectCleanClose, expectEcho } from './assertions.ts';
import { useEchoServer } from './echo-server.ts';
import { frames } from './raw-client.ts';

const { open, errorCodes } = useEchoServer();

describe('2.x pings', () => {
  it('answers a ping without payload with an empty pong', async () => {
    const client = await open();
    await client.send(frames.ping());
    await expectEcho.pong(client, '');
    await expectCleanClose(client);
  });

  it('answers a ping with a pong carrying the same text payload', async () => {
    const client = await open();
    await client.send(frames.ping('Hello, world!'));
    await expectEcho.pong(client, 'Hello, world!');
    await expectCleanClose(client);
  });

  it('answers a ping with a pong carrying the same binary payload', async () => {
    const client = await open();
    const payload = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);
    await client.send(frames.ping(payload));
    await expectEcho.pong(client, payload);
    await expectCleanClose(client);
  });

  it('answers a 125-byte ping (the largest control payload) with the same 125 bytes', async () => {
    const client = await open();
    const payload = binaryBytes(125);
    await client.send(frames.ping(payload));
    await expectEcho.pong(client, payload);
    await expectCleanClose(client);
  });

  it('answers a 125-byte ping sent one byte per write', async () => {
    const client = await open();
    const payload = binaryBytes(125);
    await client.send(frames.ping(payload), 'bytewise');
    await expectEcho.pong(client, payload);
    await expectCleanClose(client);
  });

  it('fails the connection with 1002 on a 126-byte ping, without answering it', async () => {
    const client = await open();
    await client.send(frames.ping(binaryBytes(126)));
    await expectClose(client, 1002);
    expect(await errorCodes()).toEqual(['WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH']);
  });

  it('fails the connection with 1002 on a short ping announced with a 16-bit length (docs/errors.md)', async () => {
    const client = await open();
    await client.send(frames.ping('abc', { encoding: 16 }));
    await expectClose(client, 1002);
  });

  it('fails the connection with 1002 on a fragmented ping (FIN clear), without answering it', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.ping('frag', { fin: false }), frames.continuation('ment')]));
    await expectClose(client, 1002);
    expect(await errorCodes()).toEqual(['WS_ERR_EXPECTED_FIN']);
  });

  it('answers 10 pings written at once with 10 pongs in the same order', async () => {
    const client = await open();
    const payloads = Array.from({ length: 10 }, (_, i) => `ping ${i}`);
    await client.send(Buffer.concat(payloads.map((payload) => frames.ping(payload))));
    for (const payload of payloads) await expectEcho.pong(client, payload);
    await expectCleanClose(client);
  });

  it('answers 10 pings sent one byte per write with 10 pongs in the same order', async () => {
    const client = await open();
    const payloads = Array.from({ length: 10 }, (_, i) => `ping ${i}`);
    await client.send(Buffer.concat(payloads.map((payload) => frames.ping(payload))), 'bytewise');
    for (const payload of payloads) await expectEcho.pong(client, payload);
    await expectCleanClose(client);
  });

  it('answers pings and echoes messages in the order they were sent', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([frames.text('one'), frames.ping('a'), frames.binary('two'), frames.ping('b')]),
    );
    await expectEcho.text(client, 'one');
    await expectEcho.pong(client, 'a');
    await expectEcho.binary(client, 'two');
    await expectEcho.pong(client, 'b');
    await expectCleanClose(client);
  });
});

describe('2.x unsolicited pongs', () => {
  it('ignores an unsolicited pong without payload', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.pong(), frames.text('after the pong')]));
    // The first thing the server sends is the echo: nothing answered the pong.
    await expectEcho.text(client, 'after the pong');
    await expectCleanClose(client);
  });

  it('ignores an unsolicited pong with payload', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.pong('unsolicited'), frames.text('after the pong')]));
    await expectEcho.text(client, 'after the pong');
    await expectCleanClose(client);
  });

  it('ignores an unsolicited pong, then answers the ping that follows with its own payload', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.pong('unsolicited'), frames.ping('solicited')]));
    await expectEcho.pong(client, 'solicited');
    await expectCleanClose(client);
  });

  it('ignores a 125-byte unsolicited pong but fails with 1002 on a 126-byte one', async () => {
    const client = await open();
    await client.send(frames.pong(binaryBytes(125)));
    await client.send(frames.text('still open'));
    await expectEcho.text(client, 'still open');
    await client.send(frames.pong(binaryBytes(126)));
    await expectClose(client, 1002);
  });
});
