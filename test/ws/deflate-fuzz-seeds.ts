// Seeds for native/ws/fuzz/deflate_session_fuzz.cc (written by write-fuzz-seeds.ts): streams of
// compressed frames in raw mode (RFC 7692 §7.2.3's examples and node:zlib output), and record
// lists in message mode that the fuzz target compresses itself. The config bytes and record
// layout are documented in that target and in native/ws/fuzz/deflate_peer.h.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { constants, deflateRawSync } from 'node:zlib';
import { frame, KEY, OP } from './frames.ts';

// The target's maxPayload and maxFragments tables.
const maxPayloads = [0, 1, 16, 125, 1000, 4096, 70_000, 1 << 20];
const maxFragments = [0, 1, 3, 16];

interface Config {
  server?: boolean;
  maxPayload?: number;
  noContextTakeover?: boolean;
  pauseLevel?: number; // 0..7
  windowBits?: number; // 9..15, the inflater's
  chunkBits?: number; // largest chunk 1 << chunkBits
  noPool?: boolean;
  messages?: boolean;
  seed?: number;
  maxFragments?: number;
  peerWindow?: 'same' | 9 | 'one less' | 15;
  peerKeepsHistory?: boolean;
  peerLevel?: 0 | 1 | 6 | 9;
  peerStrategy?: number; // zlib's Z_DEFAULT_STRATEGY .. Z_FIXED
}

const tableIndex = (table: number[], value: number) => {
  const index = table.indexOf(value);
  if (index < 0) throw new Error(`${value} is not in the fuzz target's table ${table.join(', ')}`);
  return index;
};

const configBytes = (config: Config) =>
  Buffer.from([
    (config.server ? 1 : 0) |
      (tableIndex(maxPayloads, config.maxPayload ?? 0) << 1) |
      (config.noContextTakeover ? 0x10 : 0) |
      ((config.pauseLevel ?? 0) << 5),
    ((config.windowBits ?? 15) - 9) |
      ((config.chunkBits ?? 3) << 3) |
      (config.noPool ? 0x40 : 0) |
      (config.messages ? 0x80 : 0),
    config.seed ?? 0,
    tableIndex(maxFragments, config.maxFragments ?? 0) |
      (['same', 9, 'one less', 15].indexOf(config.peerWindow ?? 'same') << 2) |
      (config.peerKeepsHistory ? 0x10 : 0) |
      ([0, 1, 6, 9].indexOf(config.peerLevel ?? 6) << 5),
    config.peerStrategy ?? 0,
  ]);

// Message mode records (deflate_peer.h).
interface MessageRecord {
  kind: 'text' | 'binary';
  content: string | Buffer;
  compressed?: boolean;
  fragments?: 1 | 2 | 3 | 8;
  pingsBetween?: boolean;
  ascii?: boolean;
  finalBlock?: boolean;
  damage?: 'flip' | 'cut' | 'rsv1 on continuation' | 'add or empty';
  damageParameter?: number; // 0..31
  repeat?: number; // the repeat byte
}
interface ControlRecord {
  kind: 'ping' | 'pong' | 'close';
  content: string;
  rsv1?: boolean;
}

const isMessage = (record: MessageRecord | ControlRecord): record is MessageRecord =>
  record.kind === 'text' || record.kind === 'binary';
const damages = { flip: 4, cut: 5, 'rsv1 on continuation': 6, 'add or empty': 7 } as const;

const recordBytes = (record: MessageRecord | ControlRecord) => {
  const content = Buffer.from(record.content);
  if (content.length > 255) throw new Error('a record holds at most 255 content bytes');
  let head: number;
  let damage = 0;
  let repeat = 0;
  if (isMessage(record)) {
    head =
      (record.kind === 'binary' ? 1 : 0) |
      (record.compressed === false ? 0 : 4) |
      ([1, 2, 3, 8].indexOf(record.fragments ?? 1) << 3) |
      (record.pingsBetween ? 0x20 : 0) |
      (record.ascii ? 0x40 : 0) |
      (record.finalBlock ? 0x80 : 0);
    damage = (record.damage ? damages[record.damage] : 0) | ((record.damageParameter ?? 0) << 3);
    repeat = record.repeat ?? 0;
  } else {
    head = (record.kind === 'pong' ? 3 : 2) | (record.rsv1 ? 4 : 0) | (record.kind === 'close' ? 0x20 : 0);
  }
  return Buffer.concat([Buffer.from([head, damage, content.length, repeat]), content]);
};

// Raw mode: frames of permessage-deflate data built outside the fuzz target.
const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const syncFlushed = (data: string | Buffer, level = 6) => {
  const out = deflateRawSync(Buffer.from(data), { level, finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4); // the 00 00 ff ff tail is not sent (RFC 7692 §7.2.1)
};
const compressed = (opcode: number, payload: Buffer, mask: boolean, fin = true) =>
  frame({ opcode, payload, rsv1: true, fin, mask: mask ? KEY : false });

const rawStreams = (mask: boolean) => {
  const hello = hex('f2 48 cd c9 c9 07 00'); // RFC 7692 §7.2.3.1
  const helloAgain = hex('f2 00 11 00 00'); // §7.2.3.2: refers to the first message's window
  const stored = hex('00 05 00 fa ff 48 65 6c 6c 6f 00'); // §7.2.3.3
  const finalBlock = hex('f3 48 cd c9 c9 07 00 00'); // §7.2.3.4
  const twoBlocks = hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00'); // §7.2.3.5
  const text = (payload: Buffer, fin = true) => compressed(OP.TEXT, payload, mask, fin);
  const more = (payload: Buffer, fin = true) =>
    frame({ opcode: OP.CONTINUATION, payload, fin, mask: mask ? KEY : false });
  const ping = frame({ opcode: OP.PING, payload: 'p', mask: mask ? KEY : false });
  const long = syncFlushed('permessage-deflate '.repeat(400));
  return [
    Buffer.concat([text(hello), text(helloAgain)]),
    Buffer.concat([text(stored), text(finalBlock), text(twoBlocks)]),
    Buffer.concat([text(hello.subarray(0, 3), false), ping, more(hello.subarray(3))]),
    Buffer.concat([compressed(OP.BINARY, long, mask), text(syncFlushed('κόσμε'))]),
    Buffer.concat([compressed(OP.BINARY, syncFlushed(Buffer.alloc(100_000)), mask)]), // a zip bomb
    Buffer.concat([text(Buffer.alloc(0)), text(hex('00'))]), // empty messages
    Buffer.concat([text(syncFlushed(hex('c0 af')))]), // inflates to invalid UTF-8
    Buffer.concat([text(hello.subarray(0, 4))]), // truncated
    Buffer.concat([text(hex('ff ff ff'))]), // invalid DEFLATE
    Buffer.concat([text(hello), more(hello)]), // RSV1 missing on a lone continuation
    Buffer.concat([text(hello, false), compressed(OP.CONTINUATION, hello, mask)]), // RSV1 on a continuation
  ];
};

export function writeDeflateSessionSeeds(dir: string): number {
  let count = 0;
  const write = (config: Config, body: Buffer) =>
    writeFileSync(path.join(dir, `seed-${count++}`), Buffer.concat([configBytes(config), body]));

  for (const server of [true, false]) {
    rawStreams(server).forEach((stream, index) => {
      write({ server, seed: index }, stream);
      write(
        { server, noContextTakeover: true, maxPayload: 1000, chunkBits: 0, pauseLevel: 3, seed: index },
        stream,
      );
      write({ server, maxPayload: 16, windowBits: 9, chunkBits: 1, noPool: true, seed: index }, stream);
    });
  }

  const messages = (config: Config, ...records: (MessageRecord | ControlRecord)[]) =>
    write({ ...config, messages: true }, Buffer.concat(records.map(recordBytes)));
  const chat: (MessageRecord | ControlRecord)[] = [
    { kind: 'text', content: 'Hello', ascii: true },
    { kind: 'text', content: 'Hello', ascii: true, fragments: 3, pingsBetween: true },
    { kind: 'ping', content: 'are you there' },
    { kind: 'binary', content: Buffer.from([0, 1, 2, 3, 255]), repeat: 40, fragments: 8 },
    { kind: 'text', content: 'plain', compressed: false },
    { kind: 'text', content: '', damage: 'add or empty' },
    { kind: 'text', content: 'final block', finalBlock: true },
    { kind: 'text', content: 'after the final block' },
    { kind: 'close', content: 'bye' },
  ];
  for (const takeover of [true, false]) {
    const noContextTakeover = !takeover;
    messages({ server: true, noContextTakeover }, ...chat);
    messages({ server: false, noContextTakeover, windowBits: 9, peerLevel: 0, chunkBits: 0 }, ...chat);
    messages({ server: true, noContextTakeover, peerLevel: 9, peerStrategy: 4, pauseLevel: 5 }, ...chat);
    // Zip bombs against small limits, and a message exactly at the limit.
    messages(
      { server: true, noContextTakeover, maxPayload: 1000 },
      { kind: 'binary', content: 'a', repeat: 255 },
    );
    messages(
      { server: true, noContextTakeover, maxPayload: 4096 },
      { kind: 'binary', content: 'abcd', repeat: 255 },
    );
    messages(
      { server: true, noContextTakeover, maxPayload: 16 },
      { kind: 'text', content: 'sixteen bytes!!!' },
    );
    messages(
      { server: true, noContextTakeover, maxPayload: 70_000 },
      { kind: 'binary', content: 'zip', repeat: 200 },
    );
    // Damage: a flipped bit, cut bytes, junk added, RSV1 where it is forbidden.
    for (const damage of ['flip', 'cut', 'add or empty', 'rsv1 on continuation'] as const) {
      messages(
        { server: true, noContextTakeover, seed: 7 },
        {
          kind: 'text',
          content: 'a text long enough to be damaged in many places',
          damage,
          damageParameter: 9,
        },
        { kind: 'binary', content: 'next', fragments: 2 },
      );
    }
    messages({ server: true, noContextTakeover }, { kind: 'ping', content: 'compressed?', rsv1: true });
    // The peer breaking the agreement: a larger window, or history the inflater drops.
    messages(
      { server: true, noContextTakeover, windowBits: 9, peerWindow: 15, peerKeepsHistory: true },
      { kind: 'text', content: 'repeated words, repeated words', repeat: 20 },
      { kind: 'text', content: 'repeated words, repeated words', repeat: 20 },
    );
    messages(
      { server: false, noContextTakeover, maxFragments: 3, noPool: true },
      { kind: 'text', content: 'too many fragments', fragments: 8 },
    );
  }
  return count;
}
