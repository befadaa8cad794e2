// Masking (RFC 6455 §5.3): byte i XOR key[(offset + i) % 4], eight bytes at a time, with a running
// offset so a payload can be unmasked piece by piece.
import { describe, expect, it } from 'vitest';
import { codec, KEY } from './codec.ts';

function naiveMask(data: Buffer, key: Buffer, offset: number): Buffer {
  return Buffer.from(data.map((byte, i) => byte ^ key[(offset + i) % 4]!));
}

describe('mask', () => {
  it('masks the RFC 6455 §5.7 "Hello" example', () => {
    expect(codec.mask(Buffer.from('Hello'), KEY, 0)).toEqual(Buffer.from([0x7f, 0x9f, 0x4d, 0x51, 0x58]));
  });

  it('matches a byte-by-byte XOR for every length up to 40 and every offset phase', () => {
    const data = Buffer.from(Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff));
    for (let length = 0; length <= 40; length++) {
      for (const offset of [0, 1, 2, 3, 4, 5, 1001, 2 ** 40 + 3]) {
        const piece = data.subarray(0, length);
        expect(codec.mask(piece, KEY, offset)).toEqual(naiveMask(piece, KEY, offset));
      }
    }
  });

  it('gives the same bytes piece by piece with running offsets as in one go', () => {
    const data = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    const whole = codec.mask(data, KEY, 0);
    for (const pieceSize of [1, 3, 7, 8, 9, 13]) {
      const pieces: Buffer[] = [];
      for (let at = 0; at < data.length; at += pieceSize)
        pieces.push(codec.mask(data.subarray(at, at + pieceSize), KEY, at));
      expect(Buffer.concat(pieces)).toEqual(whole);
    }
  });

  it('is its own inverse, and leaves data alone with the zero key', () => {
    const data = Buffer.from('round trip through the mask, twice');
    expect(codec.mask(codec.mask(data, KEY, 5), KEY, 5)).toEqual(data);
    expect(codec.mask(data, Buffer.alloc(4), 3)).toEqual(data);
  });

  it('works on unaligned views', () => {
    const backing = Buffer.from(Array.from({ length: 64 }, (_, i) => i));
    for (let start = 0; start < 8; start++) {
      const view = backing.subarray(start, start + 33);
      expect(codec.mask(view, KEY, 2)).toEqual(naiveMask(view, KEY, 2));
    }
  });
});
