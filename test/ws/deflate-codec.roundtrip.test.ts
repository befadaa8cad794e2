// The native permessage-deflate codec round trip: every size class (empty, 1 byte, around the
// 1 KiB threshold, 64 KiB, 8 MiB), messages fed in pieces, context takeover kept or reset, and
// interop both ways with node:zlib's raw deflate (our output inflates there with the 00 00 ff ff
// tail put back; its sync-flushed output, tail stripped, inflates here).
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  deflate,
  deflateCodec,
  inflate,
  jsonLike,
  noise,
  pieces,
  sameBuffers,
  syncFlushing,
  TAIL,
  type DeflateSettings,
} from './deflate-codec.ts';

const SIZES = [0, 1, 1023, 1024, 1025, 64 * 1024];
const SETTINGS: Array<[string, DeflateSettings]> = [
  ['defaults', {}],
  ['no context takeover', { noContextTakeover: true }],
  ['window 9, memLevel 1, level 1', { windowBits: 9, memLevel: 1, level: 1 }],
  ['window 12, level 9, Z_FILTERED', { windowBits: 12, level: 9, strategy: 1 }],
];
const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };

describe('deflate then inflate', () => {
  it.each(SETTINGS)('%s: every size class comes back unchanged, text and noise', (_name, settings) => {
    const messages = SIZES.flatMap((size) => [jsonLike(size), noise(size)]);
    const compressed = deflate(messages, settings);
    expect(compressed).toHaveLength(messages.length);
    expect(
      sameBuffers(
        inflate(compressed, {
          windowBits: settings.windowBits ?? 15,
          noContextTakeover: settings.noContextTakeover ?? false,
        }),
        messages,
      ),
    ).toBe(true);
    // No output keeps the sync flush's tail.
    for (const output of compressed) expect(output.subarray(-4).equals(TAIL)).toBe(false);
  });

  it('8 MiB of text and of noise', () => {
    const messages = [jsonLike(8 * 1024 * 1024), noise(8 * 1024 * 1024)];
    const compressed = deflate(messages);
    expect(compressed[0]!.length).toBeLessThan(messages[0]!.length / 4);
    expect(compressed[1]!.length).toBeGreaterThan(messages[1]!.length);
    expect(sameBuffers(inflate(compressed), messages)).toBe(true);
  });

  it('an empty message is the single byte 00, with or without takeover, and needs no context', () => {
    for (const noContextTakeover of [false, true]) {
      const result = deflateCodec.deflateMessages([Buffer.alloc(0), [], Buffer.alloc(0)], {
        noContextTakeover,
      });
      expect(result.outputs).toEqual([Buffer.from([0]), Buffer.from([0]), Buffer.from([0])]);
      expect(result.pool.created).toBe(0);
    }
    // Also between messages of a context that is kept: the empty one must not disturb it.
    const text = jsonLike(3000);
    const compressed = deflate([text, Buffer.alloc(0), text]);
    expect(compressed[1]).toEqual(Buffer.from([0]));
    expect(sameBuffers(inflate(compressed), [text, Buffer.alloc(0), text])).toBe(true);
  });

  it('a message fed in pieces compresses to the same stream as when whole, and inflates in any pieces', () => {
    const text = jsonLike(64 * 1024);
    const whole = deflate([text])[0]!;
    for (const size of [1, 7, 1000, 40_000]) {
      const split = deflate([pieces(text, size)])[0]!;
      expect(sameBuffers(inflate([split]), [text])).toBe(true);
      expect(sameBuffers(inflate([pieces(split, size)]), [text])).toBe(true);
    }
    expect(sameBuffers(inflate([pieces(whole, 1)]), [text])).toBe(true);
    // Empty pieces anywhere change nothing.
    expect(sameBuffers(inflate([[Buffer.alloc(0), whole, Buffer.alloc(0)]]), [text])).toBe(true);
  });
});

describe('context takeover', () => {
  const message = jsonLike(4096, 3);
  const ten = Array.from({ length: 10 }, () => message);

  it('kept: repeats compress to a fraction of the first message, on one context', () => {
    const result = deflateCodec.deflateMessages(ten, {});
    const [first, ...rest] = result.outputs.map((output) => output.length);
    for (const size of rest) expect(size).toBeLessThan(first! / 10);
    expect(result.heldContextBetween).toEqual(ten.map(() => true));
    expect(result.pool.created).toBe(1);
    expect(sameBuffers(inflate(result.outputs), ten)).toBe(true);
  });

  it('reset: every message compresses alone to the same bytes, the context is given back between messages', () => {
    const result = deflateCodec.deflateMessages(ten, { noContextTakeover: true });
    for (const output of result.outputs) expect(output.equals(result.outputs[0]!)).toBe(true);
    expect(result.heldContextBetween).toEqual(ten.map(() => false));
    expect(result.pool).toEqual({ created: 1, idle: 1 });
    const inflated = deflateCodec.inflateMessages(result.outputs, { noContextTakeover: true });
    expect(inflated.results.map((entry) => [entry.status, entry.heldContextAfter])).toEqual(
      ten.map(() => ['ok', false]),
    );
    expect(inflated.pool).toEqual({ created: 1, idle: 1 });
  });

  it('a stream that relies on takeover does not inflate on a reset inflater', () => {
    const compressed = deflate([message, message]);
    const results = deflateCodec.inflateMessages(compressed, { noContextTakeover: true }).results;
    expect(results[0]!.status).toBe('ok');
    expect(results[1]!.status).toBe('invalid-data');
    expect(results[1]!.error).toMatch(/distance too far back/);
  });
});

describe('interop with node:zlib raw deflate', () => {
  it('our messages inflate with node:zlib once the tail is put back', () => {
    for (const size of [...SIZES, 1024 * 1024]) {
      const text = jsonLike(size);
      const [compressed] = deflate([text], { noContextTakeover: true });
      expect(zlib.inflateRawSync(Buffer.concat([compressed!, TAIL]), SYNC).equals(text)).toBe(true);
    }
  });

  it('node:zlib messages, sync-flushed and tail stripped, inflate with ours', () => {
    for (const size of [...SIZES, 1024 * 1024]) {
      const text = jsonLike(size);
      const compressed = zlib.deflateRawSync(text, SYNC);
      expect(compressed.subarray(-4)).toEqual(TAIL);
      expect(sameBuffers(inflate([compressed.subarray(0, -4)], { noContextTakeover: true }), [text])).toBe(
        true,
      );
    }
  });

  it('with takeover: our message sequence inflates on one node:zlib stream, and its sequence on ours', async () => {
    const messages = [
      jsonLike(1500, 1),
      jsonLike(1500, 1),
      jsonLike(300, 2),
      Buffer.alloc(0),
      jsonLike(70_000, 3),
    ];
    const ours = deflate(messages, { windowBits: 11 });
    const nodeInflate = syncFlushing(zlib.createInflateRaw({ windowBits: 11 }));
    for (const [index, output] of ours.entries()) {
      expect((await nodeInflate(Buffer.concat([output, TAIL]))).equals(messages[index]!)).toBe(true);
    }
    const nodeDeflate = syncFlushing(zlib.createDeflateRaw({ windowBits: 11 }));
    const theirs: Buffer[] = [];
    for (const message of messages) theirs.push((await nodeDeflate(message)).subarray(0, -4));
    expect(theirs[1]!.length).toBeLessThan(theirs[0]!.length / 10);
    expect(sameBuffers(inflate(theirs, { windowBits: 11 }), messages)).toBe(true);
  });

  it('a peer asked for an 8-bit window (node:zlib then compresses with 9) inflates with our 9-bit inflater', async () => {
    const messages = [jsonLike(3000, 8), jsonLike(3000, 8), noise(700)];
    const peer = syncFlushing(zlib.createDeflateRaw({ windowBits: 8 }));
    const compressed: Buffer[] = [];
    for (const message of messages) compressed.push((await peer(message)).subarray(0, -4));
    expect(sameBuffers(inflate(compressed, { windowBits: 9 }), messages)).toBe(true);
  });

  it('a message ended with a final block (BFINAL) inflates, and the next message starts a new stream', () => {
    const first = jsonLike(2000, 4);
    const second = jsonLike(2000, 5);
    const finished = [zlib.deflateRawSync(first), zlib.deflateRawSync(second)];
    expect(sameBuffers(inflate(finished), [first, second])).toBe(true);
    // What follows a final block in the same message is a new stream: a second finished stream
    // inflates and continues the message; bytes that are no DEFLATE stream are refused.
    const joined = deflateCodec.inflateMessages([Buffer.concat(finished)], {}).results;
    expect(joined.map((entry) => entry.status)).toEqual(['ok']);
    expect(joined[0]!.data.equals(Buffer.concat([first, second]))).toBe(true);
    const results = deflateCodec.inflateMessages(
      [Buffer.concat([finished[0]!, Buffer.from([1, 2, 3])])],
      {},
    ).results;
    expect(results.map((entry) => [entry.status, entry.error])).toEqual([
      ['invalid-data', 'invalid stored block lengths'],
    ]);
  });

  it('the window is carried over a final block: the next stream may refer back into it', async () => {
    const first = jsonLike(3000, 6);
    // A peer that ends each message with a final block yet keeps its history: the second stream
    // is compressed with the first message as its dictionary.
    const second = zlib.deflateRawSync(first, { dictionary: first });
    const results = deflateCodec.inflateMessages([zlib.deflateRawSync(first), second], {}).results;
    expect(results.map((entry) => entry.status)).toEqual(['ok', 'ok']);
    expect(second.length).toBeLessThan(first.length / 10);
    expect(
      sameBuffers(
        results.map((entry) => entry.data),
        [first, first],
      ),
    ).toBe(true);
  });

  it('a compressed message of no bytes at all, or of the lone byte 00, is empty and leaves the stream intact', () => {
    const text = jsonLike(2000, 6);
    const [compressed] = deflate([text]);
    expect(
      sameBuffers(inflate([Buffer.alloc(0), Buffer.from([0]), compressed!, Buffer.alloc(0)]), [
        Buffer.alloc(0),
        Buffer.alloc(0),
        text,
        Buffer.alloc(0),
      ]),
    ).toBe(true);
  });
});
