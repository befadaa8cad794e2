// Test helpers for the native permessage-deflate codec: typed access to the deflate functions of
// the test-only codec module, node:zlib streams that sync-flush each message (the reference the
// codec must interoperate with), and sample payloads.
import zlib from 'node:zlib';
import { codec } from './codec.ts';

export interface DeflateSettings {
  windowBits?: number;
  level?: number;
  memLevel?: number;
  strategy?: number;
  noContextTakeover?: boolean;
}

export interface InflateSettings {
  windowBits?: number;
  noContextTakeover?: boolean;
  maxOutput?: number;
}

export interface PoolStats {
  created: number;
  idle: number;
}

export interface InflateResult {
  status: 'ok' | 'too-big' | 'invalid-data' | 'failed';
  data: Buffer;
  produced: number;
  heldContextAfter: boolean;
  error?: string;
}

/** A message: one Buffer, or its pieces (one codec call each, the last one ending the message). */
export type Message = Buffer | Buffer[];

interface DeflateCodecTest {
  deflateMessages(
    messages: Message[],
    settings: DeflateSettings,
  ): { outputs: Buffer[]; heldContextBetween: boolean[]; pool: PoolStats; error?: string };
  inflateMessages(
    messages: Message[],
    settings: InflateSettings,
  ): { results: InflateResult[]; pool: PoolStats };
  zlibContextMemory(options: {
    direction: 'deflate' | 'inflate';
    windowBits?: number;
    memLevel?: number;
  }): number;
}

export const deflateCodec = codec as unknown as DeflateCodecTest;

export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Compresses the messages in order with one codec; fails the test on a codec error. */
export function deflate(messages: Message[], settings: DeflateSettings = {}): Buffer[] {
  const result = deflateCodec.deflateMessages(messages, settings);
  if (result.error !== undefined) throw new Error(result.error);
  return result.outputs;
}

/** Inflates the messages in order with one codec; every one must succeed. */
export function inflate(messages: Message[], settings: InflateSettings = {}): Buffer[] {
  return deflateCodec.inflateMessages(messages, settings).results.map((result) => {
    if (result.status !== 'ok') throw new Error(`${result.status}: ${result.error}`);
    return result.data;
  });
}

/**
 * A node:zlib raw stream that is sync-flushed after each input: one call per message, resolving
 * with that message's output. The stream flows (a 'data' listener), so no output waits on a reader.
 */
export function syncFlushing(stream: zlib.DeflateRaw | zlib.InflateRaw): (input: Buffer) => Promise<Buffer> {
  let collected: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => collected.push(chunk));
  return (input) =>
    new Promise((resolve, reject) => {
      stream.once('error', reject);
      stream.write(input);
      stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        stream.removeListener('error', reject);
        const output = Buffer.concat(collected);
        collected = [];
        resolve(output);
      });
    });
}

/** JSON-like text of about `length` bytes: compressible the way chat and API traffic is. */
export function jsonLike(length: number, seed = 1): Buffer {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    const record = `{"id":${next() % 100000},"user":"user${next() % 500}","text":"message number ${next() % 10000}","ok":${next() % 2 === 0}},`;
    parts.push(record);
    size += record.length;
  }
  return Buffer.from(parts.join('').slice(0, length));
}

/** Bytes that do not compress. */
export function noise(length: number, seed = 7): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

/** Splits a buffer into pieces of at most `size` bytes (at least one piece, maybe empty). */
export function pieces(buffer: Buffer, size: number): Buffer[] {
  const result: Buffer[] = [];
  for (let offset = 0; offset < buffer.length; offset += size)
    result.push(buffer.subarray(offset, offset + size));
  return result.length > 0 ? result : [Buffer.alloc(0)];
}

/** Buffer-by-buffer equality with Buffer.equals: a deep toEqual over megabytes takes minutes. */
export function sameBuffers(actual: Buffer[], expected: Buffer[]): boolean {
  return (
    actual.length === expected.length && actual.every((buffer, index) => buffer.equals(expected[index]!))
  );
}
