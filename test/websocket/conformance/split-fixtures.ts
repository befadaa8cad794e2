// Byte streams a client sends after the handshake (each at most ~300 bytes), with the replies the
// server must send for them. Valid streams end with the client's close, so every stream ends with
// the server closing TCP and the whole reply can be compared.
import { binaryBytes } from './assertions.ts';
import { buildFrame, frames, OPCODE } from './raw-client.ts';

/** A frame of the reply, compared by opcode and payload (close frames by code only). */
export type ExpectedReply =
  | { opcode: typeof OPCODE.TEXT | typeof OPCODE.BINARY | typeof OPCODE.PONG; payload: Buffer }
  | { opcode: typeof OPCODE.CLOSE; code: number | undefined };

export interface SplitFixture {
  name: string;
  bytes: Buffer;
  replies: ExpectedReply[];
}

const text = (payload: string | Buffer): ExpectedReply => ({
  opcode: OPCODE.TEXT,
  payload: Buffer.from(payload),
});
const binary = (payload: Buffer): ExpectedReply => ({ opcode: OPCODE.BINARY, payload });
const pong = (payload: string | Buffer): ExpectedReply => ({
  opcode: OPCODE.PONG,
  payload: Buffer.from(payload),
});
const close = (code: number | undefined): ExpectedReply => ({ opcode: OPCODE.CLOSE, code });
const bytes = (...values: number[]) => Buffer.from(values);

export const SPLIT_FIXTURES: SplitFixture[] = [
  {
    name: 'a text and a binary message, then close 1000',
    bytes: Buffer.concat([frames.text('Hello'), frames.binary(binaryBytes(20)), frames.close(1000, 'bye')]),
    replies: [text('Hello'), binary(binaryBytes(20)), close(1000)],
  },
  {
    name: 'a fragmented text message with a ping between each fragment',
    bytes: Buffer.concat([
      frames.text('frag', { fin: false }),
      frames.ping('p1'),
      frames.continuation('men', { fin: false }),
      frames.ping('p2'),
      frames.continuation('t'),
      frames.close(1000),
    ]),
    replies: [pong('p1'), pong('p2'), text('fragment'), close(1000)],
  },
  {
    name: 'a euro sign and an emoji split across four fragments, with an unsolicited pong',
    bytes: Buffer.concat([
      frames.text(bytes(0xe2, 0x82), { fin: false }),
      frames.continuation(bytes(0xac, 0xf0), { fin: false }),
      frames.pong('ignored'),
      frames.continuation(bytes(0x9f, 0x98), { fin: false }),
      frames.continuation(bytes(0x80)),
      frames.close(1001),
    ]),
    replies: [text('€😀'), close(1001)],
  },
  {
    name: 'a 200-byte binary message with a 16-bit length',
    bytes: Buffer.concat([frames.binary(binaryBytes(200)), frames.close(1000)]),
    replies: [binary(binaryBytes(200)), close(1000)],
  },
  {
    name: 'a message with a non-minimal 64-bit length and a zero mask',
    bytes: Buffer.concat([
      frames.binary(bytes(1, 2, 3), { encoding: 64, mask: Buffer.alloc(4) }),
      frames.text('x', { encoding: 16 }),
      frames.close(1000),
    ]),
    replies: [binary(bytes(1, 2, 3)), text('x'), close(1000)],
  },
  {
    name: 'empty messages, an empty ping and a close without payload',
    bytes: Buffer.concat([frames.text(''), frames.ping(), frames.binary(''), frames.close()]),
    replies: [text(''), pong(''), binary(Buffer.alloc(0)), close(undefined)],
  },
  {
    name: 'a 125-byte ping between two messages',
    bytes: Buffer.concat([
      frames.text('a'),
      frames.ping(binaryBytes(125)),
      frames.text('b'),
      frames.close(1000),
    ]),
    replies: [text('a'), pong(binaryBytes(125)), text('b'), close(1000)],
  },
  {
    name: 'data after the close frame',
    bytes: Buffer.concat([
      frames.text('before'),
      frames.close(1000),
      frames.text('after'),
      frames.ping('after'),
    ]),
    replies: [text('before'), close(1000)],
  },
  {
    name: 'invalid UTF-8 (an overlong "/") after a valid message',
    bytes: Buffer.concat([
      frames.text('ok'),
      frames.text(bytes(0x61, 0xc0, 0xaf, 0x62)),
      frames.text('never'),
    ]),
    replies: [text('ok'), close(1007)],
  },
  {
    name: 'a surrogate split across fragments with a ping between',
    bytes: Buffer.concat([
      frames.text(bytes(0x61, 0xed), { fin: false }),
      frames.ping('between'),
      frames.continuation(bytes(0xa0, 0x80)),
      frames.text('never'),
    ]),
    replies: [pong('between'), close(1007)],
  },
  {
    name: 'a reserved opcode after a ping',
    bytes: Buffer.concat([
      frames.ping('first'),
      buildFrame({ opcode: 0x3, payload: 'reserved' }),
      frames.ping('never'),
    ]),
    replies: [pong('first'), close(1002)],
  },
  {
    name: 'RSV1 on a continuation frame',
    bytes: Buffer.concat([
      frames.text('a', { fin: false }),
      frames.continuation('b', { rsv1: true }),
      frames.text('never'),
    ]),
    replies: [close(1002)],
  },
  {
    name: 'an unmasked frame after a valid message',
    bytes: Buffer.concat([frames.binary(bytes(9)), frames.text('unmasked', { mask: false })]),
    replies: [binary(bytes(9)), close(1002)],
  },
  {
    name: 'a 126-byte ping',
    bytes: Buffer.concat([frames.ping(binaryBytes(126)), frames.text('never')]),
    replies: [close(1002)],
  },
  {
    name: 'a continuation frame with no message started',
    bytes: Buffer.concat([frames.continuation('orphan'), frames.text('never')]),
    replies: [close(1002)],
  },
  {
    name: 'a new message while a fragmented one is open',
    bytes: Buffer.concat([frames.text('frag', { fin: false }), frames.ping('p'), frames.binary('new')]),
    replies: [pong('p'), close(1002)],
  },
  {
    name: 'close code 1005',
    bytes: Buffer.concat([frames.text('hi'), frames.close(1005)]),
    replies: [text('hi'), close(1002)],
  },
  {
    name: 'a close reason that is not UTF-8',
    bytes: frames.close(1000, bytes(0x6f, 0x6b, 0xff)),
    replies: [close(1007)],
  },
  {
    name: 'a close payload of 1 byte',
    bytes: buildFrame({ opcode: OPCODE.CLOSE, payload: bytes(0x03) }),
    replies: [close(1002)],
  },
];
