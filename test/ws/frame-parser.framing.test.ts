// Frame parser, framing (Autobahn 1.x): payload sizes around every length encoding boundary, text
// and binary, in any chunking; non-minimal length encodings; the 2^63 length; the masking rules.
import { describe, expect, it } from 'vitest';
import { client, frame, KEY, OP, parseChunks, parseEverySplit, server } from './codec.ts';

const sizes = [0, 1, 125, 126, 127, 65535, 65536];

function payloadOf(size: number, text: boolean): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = text ? 0x61 + (i % 26) : (i * 7 + 3) & 0xff;
  return bytes;
}

describe.each([
  ['text', OP.TEXT],
  ['binary', OP.BINARY],
])('a single %s frame', (_name, opcode) => {
  // CPU-bound (every 1-byte split of a 64 KiB frame, three ways): about 10 s on a quiet 2-core
  // machine, and it has passed 30 s on a loaded one, hence its own timeout.
  it.each(sizes)(
    'of %i bytes is delivered whole, at every split',
    (size) => {
      const payload = payloadOf(size, opcode === OP.TEXT);
      const outcome = parseEverySplit(frame({ opcode, payload }), server);
      expect(outcome.error).toBeUndefined();
      expect(outcome.frames).toEqual([
        { opcode, fin: true, rsv: [false, false, false], masked: true, length: size, payload, ended: true },
      ]);
      expect(outcome.state).toBe('header');
      expect(outcome.remaining).toBe(0);
    },
    120_000,
  );

  it('of 16 MiB is delivered whole when fed in 4096-byte and 997-byte reads', () => {
    const payload = payloadOf(16 * 1024 * 1024, opcode === OP.TEXT);
    const bytes = frame({ opcode, payload });
    for (const readSize of [4096, 997]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += readSize) chunks.push(bytes.subarray(at, at + readSize));
      const outcome = parseChunks(chunks, server);
      expect(outcome.frames).toHaveLength(1);
      expect(outcome.frames[0]!.length).toBe(payload.length);
      expect(outcome.frames[0]!.payload.equals(payload)).toBe(true);
      expect(outcome.frames[0]!.ended).toBe(true);
    }
  });
});

describe('frame headers', () => {
  it('parses the RFC 6455 §5.7 examples (unmasked and masked "Hello")', () => {
    const unmasked = Buffer.from([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    const masked = Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    expect(parseEverySplit(unmasked, client).frames[0]!.payload.toString()).toBe('Hello');
    expect(parseEverySplit(masked, server).frames[0]!.payload.toString()).toBe('Hello');
  });

  it('accepts non-minimal length encodings, which RFC 6455 does not forbid', () => {
    const bytes = Buffer.concat([
      frame({ opcode: OP.BINARY, payload: 'a', encoding: 16 }),
      frame({ opcode: OP.BINARY, payload: 'bc', encoding: 64 }),
      frame({ opcode: OP.TEXT, payload: 'x'.repeat(200), encoding: 64 }),
    ]);
    const outcome = parseEverySplit(bytes, server);
    expect(outcome.error).toBeUndefined();
    expect(outcome.frames.map((f) => f.payload.toString())).toEqual(['a', 'bc', 'x'.repeat(200)]);
  });

  it('parses many frames from one buffer', () => {
    const frames = Array.from({ length: 50 }, (_, i) =>
      frame({ opcode: OP.BINARY, payload: Buffer.alloc(i, i) }),
    );
    const outcome = parseEverySplit(Buffer.concat(frames), server);
    expect(outcome.frames).toHaveLength(50);
    expect(outcome.frames.every((f, i) => f.payload.equals(Buffer.alloc(i, i)))).toBe(true);
  });

  it('waits in the named state of a partial header, keeping its bytes', () => {
    const bytes = frame({ opcode: OP.BINARY, payload: Buffer.alloc(300) });
    expect(parseChunks([bytes.subarray(0, 1)], server)).toMatchObject({ state: 'header', remaining: 1 });
    expect(parseChunks([bytes.subarray(0, 3)], server)).toMatchObject({
      state: 'extended-length-16',
      remaining: 1,
    });
    expect(parseChunks([bytes.subarray(0, 6)], server)).toMatchObject({ state: 'mask-key', remaining: 2 });
    expect(parseChunks([bytes.subarray(0, 10)], server)).toMatchObject({ state: 'payload', remaining: 0 });
    const long = frame({ opcode: OP.BINARY, length: 1n << 40n, mask: false });
    expect(parseChunks([long.subarray(0, 9)], client)).toMatchObject({
      state: 'extended-length-64',
      remaining: 7,
    });
  });

  it('reports a huge but legal length (2^63 - 1) and waits for its payload', () => {
    const bytes = frame({ opcode: OP.BINARY, length: (1n << 63n) - 1n, mask: false });
    const outcome = parseEverySplit(bytes, client);
    expect(outcome.error).toBeUndefined();
    expect(outcome.frames).toEqual([expect.objectContaining({ length: (1n << 63n) - 1n, ended: false })]);
    expect(outcome.state).toBe('payload');
  });
});

describe('the 64-bit length with its most significant bit set', () => {
  it.each([1n << 63n, (1n << 64n) - 1n])('fails with 1002 as soon as the length (%s) is read', (length) => {
    const header = frame({ opcode: OP.BINARY, length, mask: false }).subarray(0, 10);
    const outcome = parseEverySplit(header, client);
    expect(outcome.frames).toEqual([]);
    expect(outcome.error).toMatchObject({ closeCode: 1002, code: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH' });
    expect(outcome.state).toBe('failed');
  });
});

describe('masking rules', () => {
  it('a server fails an unmasked client frame with 1002 before waiting for its payload', () => {
    const bytes = frame({ opcode: OP.TEXT, payload: 'hello', mask: false });
    const outcome = parseEverySplit(bytes.subarray(0, 2), server);
    expect(outcome.error).toMatchObject({ closeCode: 1002, code: 'WS_ERR_EXPECTED_MASK' });
    expect(outcome.frames).toEqual([]);
  });

  it('a client fails a masked server frame with 1002', () => {
    const outcome = parseEverySplit(frame({ opcode: OP.TEXT, payload: 'hello' }), client);
    expect(outcome.error).toMatchObject({ closeCode: 1002, code: 'WS_ERR_UNEXPECTED_MASK' });
  });

  it('unmasks with every key, including the all-zero one', () => {
    for (const key of [
      KEY,
      Buffer.alloc(4),
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
      Buffer.from([1, 2, 3, 4]),
    ]) {
      const payload = Buffer.from('The quick brown fox jumps over the lazy dog');
      const outcome = parseEverySplit(frame({ opcode: OP.BINARY, payload, mask: key }), server);
      expect(outcome.frames[0]!.payload).toEqual(payload);
    }
  });

  it('stops after the failure and consumes nothing more', () => {
    const bytes = Buffer.concat([
      frame({ opcode: OP.TEXT, payload: 'ok' }),
      frame({ opcode: OP.TEXT, payload: 'bad', mask: false }),
      frame({ opcode: OP.TEXT, payload: 'never' }),
    ]);
    const outcome = parseEverySplit(bytes, server);
    expect(outcome.frames.map((f) => f.payload.toString())).toEqual(['ok']);
    expect(outcome.error?.closeCode).toBe(1002);
    expect(parseChunks([bytes], server)).toMatchObject({ state: 'failed' });
    expect(parseChunks([bytes], { server: true, feedAllFirst: true })).toMatchObject({
      state: 'failed',
    });
  });
});
