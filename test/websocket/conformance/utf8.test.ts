// Autobahn 6.x (UTF-8 handling): valid text is echoed byte for byte however it is fragmented;
// invalid UTF-8 in a text message fails the connection with 1007, as soon as the first invalid byte
// arrives (fail fast), across fragment boundaries, and when a sequence is cut short at the end.
import { describe, expect, it } from 'vitest';
import { expectClose, expectCleanClose, expectEcho } from './assertions.ts';
import { useEchoServer } from './echo-server.ts';
import { buildFrame, frames, OPCODE } from './raw-client.ts';

const { open, errorCodes } = useEchoServer();

const bytes = (...values: number[]) => Buffer.from(values);
const utf8 = (text: string) => Buffer.from(text, 'utf8');

const VALID: Array<{ name: string; data: Buffer }> = [
  { name: 'Latin-1 supplement and ASCII', data: utf8('Hello-µ@ßöäüàá-UTF-8!!') },
  { name: 'Greek "κόσμε"', data: utf8('κόσμε') },
  { name: 'CJK and emoji', data: utf8('日本語テキスト 😀🎉') },
  { name: 'U+0000', data: bytes(0x00) },
  { name: 'U+007F', data: bytes(0x7f) },
  { name: 'U+0080 (first 2-byte)', data: bytes(0xc2, 0x80) },
  { name: 'U+07FF (last 2-byte)', data: bytes(0xdf, 0xbf) },
  { name: 'U+0800 (first 3-byte)', data: bytes(0xe0, 0xa0, 0x80) },
  { name: 'U+D7FF (before the surrogates)', data: bytes(0xed, 0x9f, 0xbf) },
  { name: 'U+E000 (after the surrogates)', data: bytes(0xee, 0x80, 0x80) },
  { name: 'U+FFFD', data: bytes(0xef, 0xbf, 0xbd) },
  { name: 'U+FFFE and U+FFFF (noncharacters are valid)', data: bytes(0xef, 0xbf, 0xbe, 0xef, 0xbf, 0xbf) },
  { name: 'U+10000 (first 4-byte)', data: bytes(0xf0, 0x90, 0x80, 0x80) },
  { name: 'U+10FFFF (last code point)', data: bytes(0xf4, 0x8f, 0xbf, 0xbf) },
];

const INVALID: Array<{ name: string; data: Buffer }> = [
  { name: 'a lone continuation byte 0x80', data: bytes(0x80) },
  { name: 'a lone continuation byte 0xBF after ASCII', data: Buffer.concat([utf8('abc'), bytes(0xbf)]) },
  { name: 'the byte 0xFE', data: bytes(0xfe) },
  { name: 'the byte 0xFF', data: bytes(0xff) },
  { name: 'a 2-byte start followed by ASCII', data: bytes(0xc2, 0x41) },
  { name: 'overlong "/" in 2 bytes (C0 AF)', data: bytes(0xc0, 0xaf) },
  { name: 'overlong U+007F in 2 bytes (C1 BF)', data: bytes(0xc1, 0xbf) },
  { name: 'overlong U+0000 in 2 bytes (C0 80)', data: bytes(0xc0, 0x80) },
  { name: 'overlong "/" in 3 bytes (E0 80 AF)', data: bytes(0xe0, 0x80, 0xaf) },
  { name: 'overlong U+07FF in 3 bytes (E0 9F BF)', data: bytes(0xe0, 0x9f, 0xbf) },
  { name: 'overlong "/" in 4 bytes (F0 80 80 AF)', data: bytes(0xf0, 0x80, 0x80, 0xaf) },
  { name: 'overlong U+FFFF in 4 bytes (F0 8F BF BF)', data: bytes(0xf0, 0x8f, 0xbf, 0xbf) },
  { name: 'the surrogate U+D800 (ED A0 80)', data: bytes(0xed, 0xa0, 0x80) },
  { name: 'the surrogate U+DFFF (ED BF BF)', data: bytes(0xed, 0xbf, 0xbf) },
  {
    name: 'a surrogate pair encoded as two 3-byte sequences',
    data: bytes(0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80),
  },
  { name: 'U+110000 (F4 90 80 80), above U+10FFFF', data: bytes(0xf4, 0x90, 0x80, 0x80) },
  { name: 'F5 80 80 80 (above U+10FFFF)', data: bytes(0xf5, 0x80, 0x80, 0x80) },
  { name: 'F7 BF BF BF (above U+10FFFF)', data: bytes(0xf7, 0xbf, 0xbf, 0xbf) },
  { name: 'a 5-byte sequence (F8 88 80 80 80)', data: bytes(0xf8, 0x88, 0x80, 0x80, 0x80) },
  { name: 'a 6-byte sequence (FC 84 80 80 80 80)', data: bytes(0xfc, 0x84, 0x80, 0x80, 0x80, 0x80) },
  {
    name: 'a surrogate in the middle of valid text',
    data: Buffer.concat([utf8('κόσμε'), bytes(0xed, 0xa0, 0x80), utf8('edited')]),
  },
  {
    name: 'a 2-byte sequence cut short at the end of the message',
    data: Buffer.concat([utf8('abc'), bytes(0xc2)]),
  },
  {
    name: 'a 3-byte sequence cut short at the end of the message',
    data: Buffer.concat([utf8('abc'), bytes(0xe2, 0x82)]),
  },
  {
    name: 'a 4-byte sequence cut short at the end of the message',
    data: Buffer.concat([utf8('abc'), bytes(0xf0, 0x9f, 0x98)]),
  },
];

describe('6.x valid UTF-8', () => {
  it.each(VALID)('echoes $name exactly', async ({ data }) => {
    const client = await open();
    await client.send(frames.text(data));
    await expectEcho.text(client, data);
    await expectCleanClose(client);
  });

  it.each(VALID.filter(({ data }) => data.length > 1))(
    'echoes $name fragmented into 1-byte frames (a character split across fragments)',
    async ({ data }) => {
      const client = await open();
      const pieces = [...data].map((byte, i) =>
        buildFrame({
          opcode: i === 0 ? OPCODE.TEXT : OPCODE.CONTINUATION,
          payload: bytes(byte),
          fin: i === data.length - 1,
        }),
      );
      await client.send(Buffer.concat(pieces));
      await expectEcho.text(client, data);
      await expectCleanClose(client);
    },
  );

  it('echoes an empty text message', async () => {
    const client = await open();
    await client.send(frames.text(''));
    await expectEcho.text(client, '');
    await expectCleanClose(client);
  });

  it('echoes every valid text sent as one message, one byte per write', async () => {
    const client = await open();
    const data = Buffer.concat(VALID.map(({ data }) => data));
    await client.send(frames.text(data), 'bytewise');
    await expectEcho.text(client, data);
    await expectCleanClose(client);
  });

  it('does not check UTF-8 in binary messages and pings', async () => {
    const client = await open();
    const invalid = bytes(0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80);
    await client.send(Buffer.concat([frames.binary(invalid), frames.ping(invalid)]));
    await expectEcho.binary(client, invalid);
    await expectEcho.pong(client, invalid);
    await expectCleanClose(client);
  });
});

describe('6.x invalid UTF-8', () => {
  it.each(INVALID)('fails the connection with 1007 on $name', async ({ data }) => {
    const client = await open();
    await client.send(frames.text(data));
    await expectClose(client, 1007);
    expect(await errorCodes()).toEqual(['WS_ERR_INVALID_UTF8']);
  });

  it.each(INVALID)('fails the connection with 1007 on $name, sent one byte per write', async ({ data }) => {
    const client = await open();
    await client.send(frames.text(data), 'bytewise');
    await expectClose(client, 1007);
  });

  it.each(INVALID)(
    'fails the connection with 1007 on $name fragmented into 1-byte frames',
    async ({ data }) => {
      const client = await open();
      const pieces = [...data].map((byte, i) =>
        buildFrame({
          opcode: i === 0 ? OPCODE.TEXT : OPCODE.CONTINUATION,
          payload: bytes(byte),
          fin: i === data.length - 1,
        }),
      );
      await client.send(Buffer.concat(pieces));
      await expectClose(client, 1007);
    },
  );

  it('fails with 1007 on an invalid sequence whose bytes are split across two fragments (ED | A0 80)', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([frames.text(bytes(0x61, 0xed), { fin: false }), frames.continuation(bytes(0xa0, 0x80))]),
    );
    await expectClose(client, 1007);
  });

  it('fails with 1007 on an overlong sequence split across two fragments (E0 | 80 AF)', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([frames.text(bytes(0xe0), { fin: false }), frames.continuation(bytes(0x80, 0xaf))]),
    );
    await expectClose(client, 1007);
  });

  it('fails with 1007 when the last fragment ends inside a sequence begun in the first', async () => {
    const client = await open();
    await client.send(
      Buffer.concat([frames.text(bytes(0x61, 0xf0, 0x9f), { fin: false }), frames.continuation(bytes(0x98))]),
    );
    await expectClose(client, 1007);
  });

  it('echoes a valid message before the invalid one, then fails with 1007', async () => {
    const client = await open();
    await client.send(Buffer.concat([frames.text('valid'), frames.text(bytes(0xff)), frames.text('after')]));
    const close = await expectClose(client, 1007, { before: [OPCODE.TEXT] });
    expect(close.before[0]!.data.toString()).toBe('valid');
  });
});

describe('6.x fail fast on invalid UTF-8', () => {
  it('closes with 1007 after the first chunk of a 1 MiB text frame, before the rest is sent', async () => {
    const client = await open();
    const announced = 1024 * 1024;
    const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
    const header = buildFrame({ opcode: OPCODE.TEXT, length: announced, mask, payload: Buffer.alloc(0) });
    const chunk = Buffer.concat([utf8('valid text, then '), bytes(0xc0, 0xaf), utf8(' and more')]);
    // buildFrame masks from offset 0, so the first chunk of the payload can be masked on its own.
    const masked = Buffer.from(chunk.map((byte, i) => byte ^ mask[i % 4]!));
    await client.send(Buffer.concat([header, masked]));
    // Nothing more is sent: the close must come while 1 MiB − 26 bytes of the frame are still missing.
    await expectClose(client, 1007);
    expect(await errorCodes()).toEqual(['WS_ERR_INVALID_UTF8']);
  });

  it('closes with 1007 after the invalid fragment of a message, before its last fragment is sent', async () => {
    const client = await open();
    // Autobahn 6.4.1: a valid first part, then U+110000 in the second fragment; the third never goes.
    await client.send(frames.text('κόσμε', { fin: false }));
    await client.send(frames.continuation(bytes(0xf4, 0x90, 0x80, 0x80), { fin: false }));
    await expectClose(client, 1007);
  });

  it('closes with 1007 on an invalid byte in a fragment that is not finished yet', async () => {
    const client = await open();
    const mask = Buffer.from([0xa1, 0xb2, 0xc3, 0xd4]);
    const header = buildFrame({
      opcode: OPCODE.TEXT,
      length: 4096,
      mask,
      payload: Buffer.alloc(0),
      fin: false,
    });
    const chunk = bytes(0x61, 0x62, 0xed, 0xa0, 0x80);
    await client.send(Buffer.concat([header, Buffer.from(chunk.map((byte, i) => byte ^ mask[i % 4]!))]));
    await expectClose(client, 1007);
  });
});
