// Frame writer: shortest length encoding, FIN/RSV1/opcode bits, masked copies (also across two
// evbuffer chains), refusal of frames the codec must never send, and a round trip through the parser.
import { describe, expect, it } from 'vitest';
import { client, codec, frame, KEY, OP, parseChunks, server } from './codec.ts';

describe('writeFrame', () => {
  it.each([
    [0, '8200'],
    [125, '827d'],
    [126, '827e007e'],
    [65535, '827effff'],
    [65536, '827f0000000000010000'],
  ])('uses the shortest length encoding for %i bytes', (size, header) => {
    const bytes = codec.writeFrame({ opcode: OP.BINARY, payload: Buffer.alloc(size, 1) });
    expect(bytes.subarray(0, header.length / 2).toString('hex')).toBe(header);
    expect(bytes.length).toBe(header.length / 2 + size);
  });

  it('writes the same bytes as the independent test builder', () => {
    for (const size of [0, 5, 125, 126, 300, 70_000]) {
      const payload = Buffer.alloc(size, 0x5a);
      expect(codec.writeFrame({ opcode: OP.TEXT, payload })).toEqual(
        frame({ opcode: OP.TEXT, payload, mask: false }),
      );
      expect(codec.writeFrame({ opcode: OP.TEXT, payload, maskKey: KEY })).toEqual(
        frame({ opcode: OP.TEXT, payload, mask: KEY }),
      );
    }
  });

  it('sets FIN and RSV1 as asked', () => {
    expect(codec.writeFrame({ opcode: OP.TEXT, payload: Buffer.alloc(0), fin: false })[0]).toBe(0x01);
    expect(codec.writeFrame({ opcode: OP.TEXT, payload: Buffer.alloc(0), rsv1: true })[0]).toBe(0xc1);
    expect(codec.writeFrame({ opcode: OP.CONTINUATION, payload: Buffer.alloc(0) })[0]).toBe(0x80);
  });

  it('masks a header and payload that land across two evbuffer chains', () => {
    const payload = Buffer.from(Array.from({ length: 5000 }, (_, i) => i & 0xff));
    const expected = frame({ opcode: OP.BINARY, payload, mask: KEY });
    // 4041..4047 leave 7..1 bytes in the first chain (libevent 2.1.12), splitting the header itself.
    for (const prefixLength of [1, 100, 1000, 4000, 4041, 4044, 4046, 4047, 4090, 4095, 8190]) {
      expect(codec.writeFrame({ opcode: OP.BINARY, payload, maskKey: KEY, prefixLength })).toEqual(expected);
    }
  });

  it('writes only the header for unmasked frames when asked', () => {
    expect(
      codec.writeFrame({ opcode: OP.BINARY, payload: Buffer.alloc(300), headerOnly: true }).toString('hex'),
    ).toBe('827e012c');
    expect(() =>
      codec.writeFrame({ opcode: OP.BINARY, payload: Buffer.alloc(3), headerOnly: true, maskKey: KEY }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });

  it.each([
    ['a ping of 126 bytes', { opcode: OP.PING, payload: Buffer.alloc(126) }],
    ['a fragmented close', { opcode: OP.CLOSE, payload: Buffer.alloc(2), fin: false }],
    ['a reserved opcode', { opcode: 3, payload: Buffer.alloc(0) }],
    ['a reserved control opcode', { opcode: 0xb, payload: Buffer.alloc(0) }],
  ])('refuses %s', (_name, spec) => {
    expect(() => codec.writeFrame(spec)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });

  it('round-trips through the parser in both roles', () => {
    const payloads = [Buffer.alloc(0), Buffer.from('hello'), Buffer.alloc(126, 7), Buffer.alloc(70_000, 9)];
    for (const payload of payloads) {
      const masked = codec.writeFrame({ opcode: OP.BINARY, payload, maskKey: Buffer.from([9, 8, 7, 6]) });
      expect(parseChunks([masked], server).frames[0]!.payload).toEqual(payload);
      const unmasked = codec.writeFrame({ opcode: OP.BINARY, payload });
      expect(parseChunks([unmasked], client).frames[0]!.payload).toEqual(payload);
    }
  });
});
