// The compression cases' own tools, checked against zlib: the DEFLATE scanner measures what zlib
// produced (length, distances within the window, references before a message), the client's codec
// keeps or resets its context as told, and the header parser reads answers as written.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CorpusCursor, TEXT_CORPUS } from './deflate-corpus.ts';
import {
  compressedMessage,
  FLUSH_TAIL,
  MessageCompressor,
  MessageDecompressor,
  parseExtensionsHeader,
} from './deflate-peer.ts';
import { referenceReach } from './deflate-scan.ts';
import { OPCODE, parseServerFrames } from './raw-client.ts';

const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };

describe('referenceReach', () => {
  it.each([9, 10, 12, 15])(
    'measures zlib output at window %i: the inflated length, and distances within the window',
    (windowBits) => {
      const data = new CorpusCursor('text').next(100_000);
      const reach = referenceReach(zlib.deflateRawSync(data, { windowBits, ...SYNC }));
      expect(reach.length).toBe(data.length);
      // zlib keeps MIN_LOOKAHEAD (262) bytes of its window for the lookahead.
      const zlibLimit = 2 ** windowBits - 262;
      expect(reach.maxDistance).toBeLessThanOrEqual(zlibLimit);
      expect(reach.maxDistance).toBeGreaterThan(zlibLimit / 2);
      expect(reach.beforeStart).toBe(0);
    },
  );

  it('reads stored, fixed-code and dynamic-code blocks', () => {
    const text = TEXT_CORPUS.subarray(0, 20_000);
    for (const options of [{ level: 0 }, { strategy: zlib.constants.Z_FIXED }, {}]) {
      const deflated = zlib.deflateRawSync(text, { ...options, ...SYNC });
      expect(referenceReach(deflated).length).toBe(text.length);
    }
    expect(referenceReach(zlib.deflateRawSync(text, { level: 0, ...SYNC })).maxDistance).toBe(0);
    // A final block (Z_FINISH) ends the scan too.
    expect(referenceReach(zlib.deflateRawSync(text)).length).toBe(text.length);
  });

  it('shows a message that refers to the one before it', async () => {
    const compressor = new MessageCompressor(15, false);
    const text = TEXT_CORPUS.subarray(0, 500);
    const first = await compressor.compress(text);
    const second = await compressor.compress(text);
    compressor.close();
    expect(referenceReach(Buffer.concat([first, FLUSH_TAIL])).beforeStart).toBe(0);
    const reach = referenceReach(Buffer.concat([second, FLUSH_TAIL]));
    expect(reach.beforeStart).toBeGreaterThan(0);
    expect(reach.length).toBe(500);
  });

  it('throws on data that is not DEFLATE', () => {
    expect(() => referenceReach(Buffer.from([0xff, 0xff]))).toThrow(/reserved type 3/);
    expect(() => referenceReach(Buffer.from([0x00, 0x05, 0x00, 0x00, 0x00]))).toThrow(/NLEN/);
  });
});

describe('MessageCompressor and MessageDecompressor', () => {
  it('with context takeover: later messages shrink, and inflate only in order with one context', async () => {
    const compressor = new MessageCompressor(15, false);
    const decompressor = new MessageDecompressor(15, false);
    const text = TEXT_CORPUS.subarray(0, 2000);
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const payload = await compressor.compress(text);
      sizes.push(payload.length);
      expect((await decompressor.decompress(payload)).equals(text)).toBe(true);
    }
    expect(sizes[1]).toBeLessThan(sizes[0]! / 4);
    const fresh = new MessageDecompressor(15, true);
    const next = await compressor.compress(text);
    await expect(fresh.decompress(next)).rejects.toThrow(/invalid distance too far back/);
    compressor.close();
    decompressor.close();
  });

  it('without context takeover: every message inflates alone', async () => {
    const compressor = new MessageCompressor(15, true);
    const text = TEXT_CORPUS.subarray(0, 2000);
    const [a, b] = [await compressor.compress(text), await compressor.compress(text)];
    expect(a.equals(b)).toBe(true);
    expect((await new MessageDecompressor(15, true).decompress(b)).equals(text)).toBe(true);
  });

  it('keeps to an 8-bit window by making run-length matches only', async () => {
    const compressor = new MessageCompressor(8, false);
    const data = Buffer.concat([Buffer.alloc(1000, 0x41), TEXT_CORPUS.subarray(0, 5000)]);
    for (let i = 0; i < 2; i++) {
      const reach = referenceReach(Buffer.concat([await compressor.compress(data), FLUSH_TAIL]));
      expect(reach.maxDistance).toBe(1);
    }
    compressor.close();
  });
});

describe('compressedMessage', () => {
  it('sets RSV1 on the first frame only and cuts the payload into frames', () => {
    const payload = Buffer.alloc(10, 7);
    const frames = parseServerFrames(compressedMessage(OPCODE.TEXT, payload, 4));
    expect(frames.map((frame) => [frame.opcode, frame.rsv1, frame.fin, frame.payload.length])).toEqual([
      [OPCODE.TEXT, true, false, 4],
      [OPCODE.CONTINUATION, false, false, 4],
      [OPCODE.CONTINUATION, false, true, 2],
    ]);
    expect(Buffer.concat(frames.map((frame) => frame.payload)).equals(payload)).toBe(true);
  });
});

describe('parseExtensionsHeader', () => {
  it('reads extensions, bare and valued parameters, quoted values and spaces', () => {
    expect(
      parseExtensionsHeader(
        'permessage-deflate ; server_no_context_takeover;client_max_window_bits="10", x-other',
      ),
    ).toEqual([
      {
        name: 'permessage-deflate',
        params: { server_no_context_takeover: true, client_max_window_bits: '10' },
      },
      { name: 'x-other', params: {} },
    ]);
  });
});
