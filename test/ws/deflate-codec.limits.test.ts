// The native permessage-deflate codec's bounds: a zip bomb stops at the output cap (maxPayload)
// with bounded memory, whatever the ratio and however it is fed; invalid data is an error that
// gives the context back; contexts are lazy and pooled; arguments are checked; and the memory of a
// zlib context per window size, measured with this process's allocator.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { deflate, deflateCodec, jsonLike, pieces, type Message } from './deflate-codec.ts';

const MiB = 1024 * 1024;

/** Raw deflate of `size` zero bytes, sync-flushed and tail stripped: a bomb of ratio ~1000:1. */
function bomb(size: number): Buffer {
  const compressed = zlib.deflateRawSync(Buffer.alloc(size), {
    level: 9,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  return compressed.subarray(0, -4);
}

function inflateOne(message: Message, maxOutput: number, noContextTakeover = false) {
  const { results, pool } = deflateCodec.inflateMessages([message], { maxOutput, noContextTakeover });
  expect(results).toHaveLength(1);
  return { ...results[0]!, pool };
}

describe('zip bombs', () => {
  it('100 MiB packed into ~100 KiB stops at a 1 MiB cap, having produced at most cap + 1 bytes', () => {
    const packed = bomb(100 * MiB);
    expect(packed.length).toBeLessThan(110 * 1024);
    const rssBefore = process.memoryUsage().rss;
    const result = inflateOne(packed, MiB);
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    expect(result.status).toBe('too-big');
    expect(result.error).toBe('the message inflates past maxPayload (1048576 bytes)');
    expect(result.produced).toBe(MiB + 1);
    expect(result.heldContextAfter).toBe(false);
    // Inflating it whole would take 100 MiB; generous bound for a shared machine.
    expect(rssGrowth).toBeLessThan(48 * MiB);
  });

  it('a few KiB past a small cap: refused however the compressed bytes are split', () => {
    const packed = bomb(4 * MiB);
    expect(packed.length).toBeLessThan(8 * 1024);
    for (const size of [1, 100, 4096, packed.length]) {
      const result = inflateOne(pieces(packed, size), 64 * 1024);
      expect([result.status, result.produced]).toEqual(['too-big', 64 * 1024 + 1]);
    }
  });

  it('a message exactly at the cap is accepted; one byte more is refused', () => {
    const text = jsonLike(256 * 1024);
    const [exact, over] = deflate([text, Buffer.concat([text, Buffer.from('!')])], {
      noContextTakeover: true,
    });
    const accepted = inflateOne(exact!, text.length);
    expect([accepted.status, accepted.produced]).toEqual(['ok', text.length]);
    expect(accepted.data.equals(text)).toBe(true);
    const refused = inflateOne(over!, text.length);
    expect([refused.status, refused.produced]).toEqual(['too-big', text.length + 1]);
  });

  it('the cap is per message: many messages under it pass on one context', () => {
    const text = jsonLike(60 * 1024);
    const messages = deflate(Array.from({ length: 20 }, () => text));
    const { results } = deflateCodec.inflateMessages(messages, { maxOutput: 64 * 1024 });
    expect(results.map((result) => result.status)).toEqual(messages.map(() => 'ok'));
  });

  it('maxOutput 0 means no limit', () => {
    const result = inflateOne(bomb(16 * MiB), 0);
    expect([result.status, result.produced]).toEqual(['ok', 16 * MiB]);
  });
});

describe('invalid compressed data', () => {
  it.each([
    ['a reserved block type', Buffer.from([0xff, 0xff, 0xff]), 'invalid block type'],
    [
      'stored block lengths that disagree',
      Buffer.from([0x00, 0x05, 0x00, 0x00, 0x00]),
      'invalid stored block lengths',
    ],
  ])('%s is invalid-data with zlib’s reason, and the context is given back', (_name, data, reason) => {
    const result = inflateOne(data, 0);
    expect([result.status, result.error, result.produced]).toEqual(['invalid-data', reason, 0]);
    expect(result.heldContextAfter).toBe(false);
    expect(result.pool).toEqual({ created: 1, idle: 1 });
  });

  it('stops at the first bad message of a sequence', () => {
    const [good] = deflate([jsonLike(2000)]);
    const { results } = deflateCodec.inflateMessages([good!, Buffer.from([0xff]), good!], {});
    expect(results.map((result) => result.status)).toEqual(['ok', 'invalid-data']);
  });
});

describe('contexts', () => {
  it('are made only when a message needs one, and reused through the pool without takeover', () => {
    const text = jsonLike(3000);
    const compressed = deflate([text, text, text], { noContextTakeover: true });
    const { results, pool } = deflateCodec.inflateMessages(compressed, { noContextTakeover: true });
    expect(results.map((result) => result.heldContextAfter)).toEqual([false, false, false]);
    expect(pool).toEqual({ created: 1, idle: 1 });
    expect(deflateCodec.inflateMessages([Buffer.alloc(0)], {}).pool).toEqual({ created: 0, idle: 0 });
    expect(deflateCodec.deflateMessages([[Buffer.alloc(0), Buffer.alloc(0)]], {}).pool).toEqual({
      created: 0,
      idle: 0,
    });
    expect(deflateCodec.deflateMessages([], {}).pool).toEqual({ created: 0, idle: 0 });
  });

  it('are kept between messages with takeover, and given back when the codec goes', () => {
    const compressed = deflate([jsonLike(3000), jsonLike(3000)]);
    const { results, pool } = deflateCodec.inflateMessages(compressed, {});
    expect(results.map((result) => result.heldContextAfter)).toEqual([true, true]);
    expect(pool).toEqual({ created: 1, idle: 1 });
  });

  // Figures for the 1000-connection budget; bounds generous: Node's zlib build may change.
  it('cost what the comment in zlib_context_pool.h says, counted allocation by allocation', () => {
    const measure = (direction: 'deflate' | 'inflate', windowBits: number, memLevel = 8) =>
      deflateCodec.zlibContextMemory({ direction, windowBits, memLevel });
    const deflate15 = measure('deflate', 15);
    const deflate9 = measure('deflate', 9, 1);
    const inflate15 = measure('inflate', 15);
    const inflate9 = measure('inflate', 9);
    expect(deflate15).toBeGreaterThan(200 * 1024);
    expect(deflate15).toBeLessThan(400 * 1024);
    expect(deflate9).toBeLessThan(deflate15 / 2);
    expect(inflate15).toBeGreaterThan(32 * 1024);
    expect(inflate15).toBeLessThan(64 * 1024);
    expect(inflate9).toBeLessThan(16 * 1024);
  });
});

describe('arguments', () => {
  it.each([
    ['deflate with window 8', () => deflateCodec.deflateMessages([], { windowBits: 8 })],
    ['deflate with window 16', () => deflateCodec.deflateMessages([], { windowBits: 16 })],
    ['deflate with level 10', () => deflateCodec.deflateMessages([], { level: 10 })],
    ['deflate with memLevel 1e10', () => deflateCodec.deflateMessages([], { memLevel: 1e10 })],
    ['inflate with window 9.5', () => deflateCodec.inflateMessages([], { windowBits: 9.5 })],
    ['inflate with a negative cap', () => deflateCodec.inflateMessages([], { maxOutput: -1 })],
    ['messages that are not buffers', () => deflateCodec.inflateMessages(['x' as unknown as Buffer], {})],
    ['no settings', () => deflateCodec.deflateMessages([], undefined as unknown as object)],
    ['memory with window 16', () => deflateCodec.zlibContextMemory({ direction: 'inflate', windowBits: 16 })],
  ])('%s: ERR_INVALID_ARG', (_name, call) => {
    let code: string | undefined;
    try {
      call();
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    expect(code).toBe('ERR_INVALID_ARG');
  });
});
