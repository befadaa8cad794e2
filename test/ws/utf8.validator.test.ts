// The incremental UTF-8 validator on its own: RFC 3629's boundaries, the exact offset of the first
// offending byte in any chunking, and agreement with TextDecoder (fatal, streaming) on random input.
import { describe, expect, it } from 'vitest';
import { codec, oneByteChunks } from './codec.ts';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** Validates `bytes` whole, in 1-byte pieces and at every two-part split; all must agree. */
function validate(bytes: Buffer) {
  const whole = codec.validateUtf8([bytes]);
  expect(codec.validateUtf8(oneByteChunks(bytes))).toEqual(whole);
  for (let at = 0; at <= bytes.length; at++) {
    expect(codec.validateUtf8([bytes.subarray(0, at), bytes.subarray(at)])).toEqual(whole);
  }
  return whole;
}

/** The oracle: the byte at which a fatal streaming TextDecoder throws, fed one byte at a time. */
function textDecoderVerdict(bytes: Buffer) {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < bytes.length; i++) {
    try {
      decoder.decode(bytes.subarray(i, i + 1), { stream: true });
    } catch {
      return { valid: false, complete: false, errorOffset: i };
    }
  }
  try {
    decoder.decode();
    return { valid: true, complete: true, errorOffset: -1 };
  } catch {
    return { valid: true, complete: false, errorOffset: -1 };
  }
}

describe('valid UTF-8', () => {
  it.each([
    ['empty', ''],
    ['ASCII', Buffer.from('Hello, world! 0123456789').toString('hex')],
    ['κόσμε', 'ceba e1bdb9 cf83 cebc ceb5'],
    ['the first code point of each length', '00 c280 e0a080 f0908080'],
    ['the last code point of each length', '7f dfbf efbfbf f48fbfbf'],
    ['around the surrogates (U+D7FF, U+E000)', 'ed9fbf ee8080'],
    ['noncharacters (U+FFFE, U+FFFF, U+10FFFF)', 'efbfbe efbfbf f48fbfbf'],
  ])('%s is valid and complete', (_name, bytes) => {
    expect(validate(hex(bytes))).toEqual({ valid: true, complete: true, errorOffset: -1 });
  });

  it.each(['c2', 'e0a0', 'e2', 'f0', 'f09080', 'f48fbf'])('%s is valid so far but not complete', (bytes) => {
    expect(validate(hex(bytes))).toEqual({ valid: true, complete: false, errorOffset: -1 });
  });
});

describe('invalid UTF-8 fails at the first byte that rules it out', () => {
  it.each([
    ['a lone continuation byte', '80', 0],
    ['a continuation byte after ASCII', '41 42 bf', 2],
    ['C0 (always overlong)', 'c0 80', 0],
    ['C1 (always overlong)', 'c1 bf', 0],
    ['E0 80..9F (overlong 3-byte)', 'e0 80 80', 1],
    ['E0 9F', 'e0 9f bf', 1],
    ['F0 80..8F (overlong 4-byte)', 'f0 80 80 80', 1],
    ['F0 8F', 'f0 8f bf bf', 1],
    ['ED A0 (high surrogate U+D800)', 'ed a0 80', 1],
    ['ED BF (low surrogate U+DFFF)', 'ed bf bf', 1],
    ['a surrogate pair encoded as two 3-byte sequences', 'eda0bd edb8b5', 1],
    ['F4 90 (above U+10FFFF)', 'f4 90 80 80', 1],
    ['F5', 'f5 80 80 80', 0],
    ['F8 (old 5-byte form)', 'f8 88 80 80 80', 0],
    ['FE', 'fe', 0],
    ['FF', 'ff', 0],
    ['a sequence cut short by ASCII', 'e2 82 41', 2],
    ['a sequence cut short by a new lead byte', 'f0 90 80 c2 80', 3],
    ['a 2-byte sequence with a third byte', 'c2 80 80', 2],
    ['κόσμε then a surrogate (Autobahn 6.4.2)', 'cebae1bdb9cf83cebcceb5 eda080 656469746564', 12],
  ])('%s', (_name, bytes, offset) => {
    expect(validate(hex(bytes))).toEqual({ valid: false, complete: false, errorOffset: offset });
  });

  it('at every position of a long ASCII run, across the 8-byte fast path', () => {
    for (let position = 0; position < 40; position++) {
      const bytes = Buffer.alloc(40, 0x61);
      bytes[position] = 0x80;
      expect(validate(bytes).errorOffset).toBe(position);
    }
  });

  it('counts the offset across pieces and ignores everything after the failure', () => {
    expect(codec.validateUtf8([hex('4142'), hex('e282'), hex('41ff'), hex('61')])).toEqual({
      valid: false,
      complete: false,
      errorOffset: 4,
    });
  });
});

describe('against TextDecoder as an oracle', () => {
  // A byte pool rich in boundary values, so random strings hit every branch of the state machine.
  const pool = [
    0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed,
    0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
  ];
  let seed = 0x2545f491;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };

  it('agrees on validity, completeness and the failing offset for 20,000 random inputs', () => {
    for (let round = 0; round < 20_000; round++) {
      const length = Math.floor(random() * 24);
      const bytes = Buffer.from(
        Array.from({ length }, () =>
          random() < 0.3 ? 0x80 + Math.floor(random() * 64) : pool[Math.floor(random() * pool.length)]!,
        ),
      );
      const pieces = [bytes.subarray(0, length >> 1), bytes.subarray(length >> 1)];
      expect(codec.validateUtf8(pieces), bytes.toString('hex')).toEqual(textDecoderVerdict(bytes));
    }
  });

  it('accepts the UTF-8 of random strings of code points from every plane', () => {
    for (let round = 0; round < 2_000; round++) {
      const codePoints = Array.from({ length: 16 }, () => {
        const cp = Math.floor(random() * 0x110000);
        return cp >= 0xd800 && cp <= 0xdfff ? 0x41 : cp;
      });
      const bytes = Buffer.from(String.fromCodePoint(...codePoints));
      expect(codec.validateUtf8([bytes])).toEqual({ valid: true, complete: true, errorOffset: -1 });
    }
  });
});
