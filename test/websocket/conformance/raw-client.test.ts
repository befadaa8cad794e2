// The conformance suite's own tools, checked against RFC 6455's examples (§5.7, §1.3) so a failure in
// the suite points at the server, not at the client that talks to it.
import { describe, expect, it } from 'vitest';
import {
  acceptFor,
  buildFrame,
  bytewiseEdges,
  chunksOf,
  frames,
  handshakeRequest,
  OPCODE,
  parseResponseHead,
  parseServerFrame,
  parseServerFrames,
  RFC_SAMPLE_ACCEPT,
  RFC_SAMPLE_KEY,
} from './raw-client.ts';

const hex = (text: string) => Buffer.from(text.replace(/\s/g, ''), 'hex');

describe('frame building (RFC 6455 §5.7 examples)', () => {
  it('builds the masked "Hello" text frame', () => {
    expect(frames.text('Hello').toString('hex')).toBe('818537fa213d7f9f4d5158');
  });

  it('builds the unmasked "Hello" text frame', () => {
    expect(frames.text('Hello', { mask: false }).toString('hex')).toBe('810548656c6c6f');
  });

  it('builds the fragments of an unmasked "Hello"', () => {
    expect(frames.text('Hel', { mask: false, fin: false }).toString('hex')).toBe('010348656c');
    expect(frames.continuation('lo', { mask: false }).toString('hex')).toBe('80026c6f');
  });

  it('uses the 16-bit length for 256 bytes and the 64-bit length for 65536 bytes', () => {
    expect(frames.binary(Buffer.alloc(256), { mask: false }).subarray(0, 4).toString('hex')).toBe('827e0100');
    expect(frames.binary(Buffer.alloc(65536), { mask: false }).subarray(0, 10).toString('hex')).toBe(
      '827f0000000000010000',
    );
  });

  it('encodes any opcode, RSV bits, FIN and a lying length', () => {
    const frame = buildFrame({
      opcode: 0xb,
      rsv1: true,
      rsv3: true,
      fin: false,
      length: 2n ** 63n,
      mask: false,
    });
    expect(frame.toString('hex')).toBe('5b7f8000000000000000');
  });

  it('builds a close frame with its code and reason', () => {
    expect(frames.close(1000, 'ok', { mask: false }).toString('hex')).toBe('880403e86f6b');
    expect(frames.close(undefined, '', { mask: false }).toString('hex')).toBe('8800');
  });
});

describe('server frame parsing', () => {
  it('parses the unmasked "Hello" and the ping example, and waits for incomplete frames', () => {
    const stream = hex('810548656c6c6f 890548656c6c6f');
    expect(parseServerFrames(stream).map((frame) => [frame.opcode, frame.payload.toString()])).toEqual([
      [OPCODE.TEXT, 'Hello'],
      [OPCODE.PING, 'Hello'],
    ]);
    for (let end = 0; end < 7; end++) expect(parseServerFrame(stream.subarray(0, end))).toBeNull();
  });

  it('unmasks and flags a masked frame (which a server must not send)', () => {
    const parsed = parseServerFrame(hex('818537fa213d7f9f4d5158'));
    expect(parsed?.frame.masked).toBe(true);
    expect(parsed?.frame.payload.toString()).toBe('Hello');
    expect(parsed?.size).toBe(11);
  });
});

describe('handshake heads', () => {
  it('computes the accept value of the RFC sample key', () => {
    expect(acceptFor(RFC_SAMPLE_KEY)).toBe(RFC_SAMPLE_ACCEPT);
  });

  it('replaces, removes and repeats headers case-insensitively', () => {
    const { text } = handshakeRequest({
      key: RFC_SAMPLE_KEY,
      headers: { host: null, CONNECTION: 'keep-alive, Upgrade', 'X-Twice': ['a', 'b'] },
    });
    expect(text).toBe(
      'GET / HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Sec-WebSocket-Version: 13\r\nCONNECTION: keep-alive, Upgrade\r\nX-Twice: a\r\nX-Twice: b\r\n\r\n',
    );
  });

  it('parses a response head with repeated headers', () => {
    const response = parseResponseHead(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX: 1\r\nx: 2',
    );
    expect(response).toMatchObject({
      statusCode: 101,
      statusMessage: 'Switching Protocols',
      headers: { x: '1, 2' },
    });
  });
});

describe('chunkings', () => {
  const bytes = Buffer.from('abcdefgh');
  const cut = (chunks: Buffer[]) => chunks.map((chunk) => chunk.toString());

  it('cuts whole, bytewise, by sizes and at offsets', () => {
    expect(cut(chunksOf(bytes, 'whole'))).toEqual(['abcdefgh']);
    expect(cut(chunksOf(bytes, 'bytewise'))).toEqual([...'abcdefgh']);
    expect(cut(chunksOf(bytes, { sizes: [1, 3] }))).toEqual(['a', 'bcd', 'efgh']);
    expect(cut(chunksOf(bytes, { splitAt: [3] }))).toEqual(['abc', 'defgh']);
    expect(cut(chunksOf(Buffer.alloc(0), 'bytewise'))).toEqual(['']);
  });

  it('writes the edges of a large buffer one byte at a time', () => {
    const chunking = bytewiseEdges(100, 10, 30);
    const chunks = chunksOf(Buffer.alloc(100), chunking);
    expect(chunks.map((chunk) => chunk.length)).toEqual([
      ...Array<number>(10).fill(1),
      30,
      30,
      20,
      ...Array<number>(10).fill(1),
    ]);
  });
});
