// Writes the libFuzzer seed corpora (scripts/fuzz.sh runs it with vite-node): the frame streams of
// fixtures.ts behind the config byte native/ws/fuzz/frame_parser_fuzz.cc decodes, the same streams
// and some whole conversations behind the three config bytes of connection_fuzz.cc, UTF-8 seeds,
// and permessage-deflate streams for deflate_session_fuzz.cc (deflate-fuzz-seeds.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeDeflateSessionSeeds } from './deflate-fuzz-seeds.ts';
import { fixtures, type Fixture } from './fixtures.ts';
import { frame, OP } from './frames.ts';

const [frameDir, utf8Dir, connectionDir, deflateDir] = process.argv.slice(2);
if (!frameDir || !utf8Dir || !connectionDir || !deflateDir) {
  throw new Error(
    'usage: write-fuzz-seeds.ts <frame-corpus-dir> <utf8-corpus-dir> <connection-corpus-dir> <deflate-session-corpus-dir>',
  );
}
for (const dir of [frameDir, utf8Dir, connectionDir, deflateDir]) mkdirSync(dir, { recursive: true });

// The limit tables of both fuzz targets.
const maxPayloads = [0, 16, 1000, 70_000];
const maxFragments = [0, 1, 3, 16];
const limitsBits = (options: Fixture['options']) =>
  (options.server ? 1 : 0) |
  (maxPayloads.indexOf(options.maxPayload ?? 0) << 1) |
  (maxFragments.indexOf(options.maxFragments ?? 0) << 3);

fixtures.forEach((fixture, index) => {
  writeFileSync(
    path.join(frameDir, `fixture-${index}`),
    Buffer.concat([Buffer.from([limitsBits(fixture.options)]), fixture.bytes]),
  );
});

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const close = (payload: Buffer | string = '') => frame({ opcode: OP.CLOSE, payload });
const closeWith = (code: number, reason = '') => {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return close(payload);
};
const ping = (payload = '') => frame({ opcode: OP.PING, payload });
const pong = (payload = '') => frame({ opcode: OP.PONG, payload });
const text = (payload: Buffer | string, fin = true) => frame({ opcode: OP.TEXT, payload, fin });
const more = (payload: Buffer | string, fin = true) => frame({ opcode: OP.CONTINUATION, payload, fin });
const binary = (size: number) => frame({ opcode: OP.BINARY, payload: Buffer.alloc(size, 0x5a) });

// Conversations that exercise the session rather than single frames: automatic pongs before and
// after our close frame, close payload checks, bytes after the end, pauses between messages.
const conversations: { bytes: Buffer; options: Fixture['options'] }[] = [
  {
    bytes: Buffer.concat([ping('a'), text('hello'), ping('b'), closeWith(1000, 'bye')]),
    options: { server: true },
  },
  { bytes: Buffer.concat([closeWith(1000), text('after the close')]), options: { server: true } },
  { bytes: Buffer.concat([close(), ping('ignored')]), options: { server: true } },
  { bytes: close(hex('03')), options: { server: true } },
  { bytes: closeWith(1005), options: { server: true } },
  { bytes: closeWith(999), options: { server: true } },
  { bytes: closeWith(1014, 'bad gateway'), options: { server: true } },
  { bytes: closeWith(4999, 'app'), options: { server: true } },
  { bytes: close(hex('03e8 c0af')), options: { server: true } },
  {
    bytes: Buffer.concat([
      text('fr', false),
      pong('p'),
      ping('q'),
      more('ag', false),
      more('ment'),
      binary(20),
    ]),
    options: { server: true, maxPayload: 1000, maxFragments: 3 },
  },
  { bytes: Buffer.concat([binary(1000), binary(1001)]), options: { server: true, maxPayload: 1000 } },
  {
    bytes: Buffer.concat([
      frame({ opcode: OP.PING, payload: 'x', mask: false }),
      frame({ opcode: OP.TEXT, payload: 'unmasked from a server', mask: false }),
      frame({ opcode: OP.CLOSE, payload: hex('0bb8'), mask: false }),
    ]),
    options: { server: false },
  },
  {
    bytes: Buffer.concat([text('ok'), frame({ opcode: OP.BINARY, payload: 'x', rsv2: true })]),
    options: { server: true },
  },
];

// Config bytes after the limits: [pause level << 5, close-after and chunk bits, seed]; see
// native/ws/fuzz/connection_fuzz.cc.
let connectionSeeds = 0;
const writeConnectionSeed = (options: Fixture['options'], config: [number, number], bytes: Buffer) => {
  const head = Buffer.from([limitsBits(options) | (config[0] << 5), config[1], connectionSeeds]);
  writeFileSync(path.join(connectionDir, `seed-${connectionSeeds++}`), Buffer.concat([head, bytes]));
};
for (const fixture of fixtures) writeConnectionSeed(fixture.options, [0, 0x60], fixture.bytes);
for (const { bytes, options } of conversations) {
  // 1-byte chunks; up to 8-byte chunks pausing often, our close frame queued during the first
  // event; up to 128-byte chunks with the close frame queued during the second.
  writeConnectionSeed(options, [0, 0x00], bytes);
  writeConnectionSeed(options, [6, 0x60 | 0x10], bytes);
  writeConnectionSeed(options, [0, 0xe0 | 0x11], bytes);
}

const utf8Seeds = [
  '',
  'Hello',
  'κόσμε',
  '\u{10FFFF}\u{FFFF}\u{D7FF}\u{E000}',
  'ascii run longer than eight bytes',
];
const invalid = ['c0af', 'e080af', 'f08080af', 'eda080', 'f4908080', 'e282', 'f09f98', '41ff42'];
[...utf8Seeds.map((text) => Buffer.from(text)), ...invalid.map((hex) => Buffer.from(hex, 'hex'))].forEach(
  (bytes, index) => writeFileSync(path.join(utf8Dir, `seed-${index}`), bytes),
);
const deflateSeeds = writeDeflateSessionSeeds(deflateDir);
console.log(
  `wrote ${fixtures.length} frame seeds, ${connectionSeeds} connection seeds, ` +
    `${utf8Seeds.length + invalid.length} UTF-8 seeds and ${deflateSeeds} deflate session seeds`,
);
