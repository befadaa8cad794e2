// A compact corpus of frame streams with their expected outcome: fed at every split point by
// frame-parser.splits.test.ts, and the libFuzzer seed corpus (written by write-fuzz-seeds.ts).
// Limits use only the values the fuzz target can express (see native/ws/fuzz/frame_parser_fuzz.cc).
import { frame, OP } from './frames.ts';

export interface Fixture {
  name: string;
  bytes: Buffer;
  options: { server: boolean; maxPayload?: 0 | 16 | 1000 | 70_000; maxFragments?: 0 | 1 | 3 | 16 };
  /** The close code the parser must fail with; undefined when the stream is valid. */
  closeCode?: 1002 | 1007 | 1009;
}

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const server = { server: true };
const client = { server: false };
const text = (payload: Buffer | string, fin = true) => frame({ opcode: OP.TEXT, payload, fin });
const more = (payload: Buffer | string, fin = true) => frame({ opcode: OP.CONTINUATION, payload, fin });
const ping = (payload: Buffer | string = '') => frame({ opcode: OP.PING, payload });
const cat = (...parts: Buffer[]) => Buffer.concat(parts);

export const fixtures: Fixture[] = [
  { name: 'empty text', bytes: text(''), options: server },
  { name: 'hello, masked', bytes: text('Hello'), options: server },
  {
    name: 'hello, unmasked',
    bytes: frame({ opcode: OP.TEXT, payload: 'Hello', mask: false }),
    options: client,
  },
  {
    name: 'binary 126',
    bytes: frame({ opcode: OP.BINARY, payload: Buffer.alloc(126, 0xaa) }),
    options: server,
  },
  {
    name: 'binary 300, 64-bit length',
    bytes: frame({ opcode: OP.BINARY, payload: Buffer.alloc(300, 3), encoding: 64 }),
    options: server,
  },
  {
    name: 'text 5, 16-bit length',
    bytes: frame({ opcode: OP.TEXT, payload: 'abcde', encoding: 16 }),
    options: server,
  },
  {
    name: 'rsv bits reported',
    bytes: frame({ opcode: OP.BINARY, payload: 'x', rsv1: true, rsv2: true, rsv3: true }),
    options: server,
  },
  { name: 'ping 125', bytes: ping(Buffer.alloc(125, 0x70)), options: server },
  { name: 'ping 126', bytes: ping(Buffer.alloc(126)), options: server, closeCode: 1002 },
  {
    name: 'fragmented ping',
    bytes: cat(frame({ opcode: OP.PING, payload: 'a', fin: false }), more('b')),
    options: server,
    closeCode: 1002,
  },
  {
    name: 'close with code and reason',
    bytes: frame({ opcode: OP.CLOSE, payload: hex('03e8 6279 65') }),
    options: server,
  },
  {
    name: 'reserved opcode 3',
    bytes: cat(text('ok'), frame({ opcode: 3 })),
    options: server,
    closeCode: 1002,
  },
  { name: 'reserved opcode 0xB', bytes: frame({ opcode: 0xb }), options: server, closeCode: 1002 },
  {
    name: 'unmasked client frame',
    bytes: frame({ opcode: OP.TEXT, payload: 'hi', mask: false }),
    options: server,
    closeCode: 1002,
  },
  { name: 'masked server frame', bytes: text('hi'), options: client, closeCode: 1002 },
  {
    name: 'length 2^63',
    bytes: frame({ opcode: OP.BINARY, length: 1n << 63n, mask: false }),
    options: client,
    closeCode: 1002,
  },
  {
    name: 'fragments with pings between',
    bytes: cat(text('fr', false), ping('1'), more('ag', false), ping('2'), more('ment')),
    options: server,
  },
  { name: 'lone continuation', bytes: more('x'), options: server, closeCode: 1002 },
  {
    name: 'new message inside a fragmented one',
    bytes: cat(text('a', false), text('b')),
    options: server,
    closeCode: 1002,
  },
  {
    name: 'frame over maxPayload',
    bytes: frame({ opcode: OP.BINARY, payload: Buffer.alloc(17) }),
    options: { server: true, maxPayload: 16 },
    closeCode: 1009,
  },
  {
    name: 'message over maxPayload in fragments',
    bytes: cat(text('0123456789', false), more('0123456')),
    options: { server: true, maxPayload: 16 },
    closeCode: 1009,
  },
  {
    name: 'too many fragments',
    bytes: cat(text('a', false), more('b', false), more('c', false), more('d')),
    options: { server: true, maxFragments: 3 },
    closeCode: 1009,
  },
  { name: 'κόσμε', bytes: text(hex('cebae1bdb9cf83cebcceb5')), options: server },
  {
    name: 'U+10FFFF split over fragments',
    bytes: cat(text(hex('f48f'), false), ping(), more(hex('bfbf'))),
    options: server,
  },
  { name: 'surrogate U+D800', bytes: text(hex('41 eda080 41')), options: server, closeCode: 1007 },
  { name: 'overlong 2-byte', bytes: text(hex('c0af')), options: server, closeCode: 1007 },
  { name: 'overlong 3-byte', bytes: text(hex('e080af')), options: server, closeCode: 1007 },
  { name: 'overlong 4-byte', bytes: text(hex('f08080af')), options: server, closeCode: 1007 },
  { name: 'above U+10FFFF', bytes: text(hex('f4908080')), options: server, closeCode: 1007 },
  {
    name: 'invalid UTF-8 in the second fragment',
    bytes: cat(text('κόσμε', false), more(hex('ff'))),
    options: server,
    closeCode: 1007,
  },
  { name: 'text ends inside a sequence', bytes: text(hex('e282')), options: server, closeCode: 1007 },
  {
    name: 'invalid UTF-8 in binary is fine',
    bytes: frame({ opcode: OP.BINARY, payload: hex('ff fe c0') }),
    options: server,
  },
  {
    name: 'compressed text is not checked',
    bytes: frame({ opcode: OP.TEXT, payload: hex('ff'), rsv1: true }),
    options: server,
  },
  {
    name: 'many small frames',
    bytes: cat(
      ...Array.from({ length: 12 }, (_, i) => frame({ opcode: OP.BINARY, payload: Buffer.alloc(i, i) })),
    ),
    options: server,
  },
  {
    name: 'limits respected',
    bytes: cat(text('0123456789abcdef', false), ping('ping over the limit is fine'), more('')),
    options: { server: true, maxPayload: 16, maxFragments: 3 },
  },
];
