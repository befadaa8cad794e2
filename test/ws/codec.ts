// Test helpers for the native WebSocket codec: typed access to the test-only codec module, the
// frame builder (re-exported from frames.ts), and parsing checked at every split point.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
// The production addon loads first: it installs libevent's allocator, which must come before any
// libevent allocation in the process (the codec module allocates evbuffers).
import '../../src/native.ts';

export interface ParseOptions {
  server: boolean;
  maxPayload?: number;
  maxFragments?: number;
}

interface RawOptions extends ParseOptions {
  pauseAlways?: boolean;
  feedAllFirst?: boolean;
}

export type ParseEvent =
  | {
      type: 'start';
      fin: boolean;
      rsv1: boolean;
      rsv2: boolean;
      rsv3: boolean;
      opcode: number;
      length: number | bigint;
      masked: boolean;
    }
  | { type: 'payload'; data: Buffer }
  | { type: 'end' };

export interface CodecError {
  closeCode: number;
  code: string;
  message: string;
}

export interface RawParseResult {
  events: ParseEvent[];
  error?: CodecError;
  state: string;
  remaining: number;
}

export interface WsCodecTest {
  parse(chunks: Buffer[], options: RawOptions): RawParseResult;
  validateUtf8(chunks: Buffer[]): { valid: boolean; complete: boolean; errorOffset: number };
  mask(data: Buffer, key: Buffer, offset: number): Buffer;
  writeFrame(spec: {
    opcode: number;
    payload: Buffer;
    fin?: boolean;
    rsv1?: boolean;
    maskKey?: Buffer;
    headerOnly?: boolean;
    prefixLength?: number;
  }): Buffer;
}

/** bufferevent_codec_test.node sits next to the addon being tested (BUFFEREVENT_ADDON_PATH for the sanitizer build). */
function codecModulePath(): string {
  const addon =
    process.env.BUFFEREVENT_ADDON_PATH ??
    path.join(
      path.dirname(fileURLToPath(import.meta.url)),
      '..',
      '..',
      'build',
      'Release',
      'bufferevent.node',
    );
  return path.join(path.dirname(addon), 'bufferevent_codec_test.node');
}

export const codec = createRequire(import.meta.url)(codecModulePath()) as WsCodecTest;

export { frame, KEY, OP, type FrameSpec } from './frames.ts';

export interface ParsedFrame {
  opcode: number;
  fin: boolean;
  rsv: [boolean, boolean, boolean];
  masked: boolean;
  length: number | bigint;
  payload: Buffer;
  ended: boolean;
}

export interface ParseOutcome {
  frames: ParsedFrame[];
  error?: CodecError;
  state: string;
  remaining: number;
}

/** Groups the event stream by frame; payload pieces are joined, so chunking does not show. */
export function normalize(raw: RawParseResult): ParseOutcome {
  const frames: ParsedFrame[] = [];
  let pieces: Buffer[] = [];
  const joinPieces = () => {
    const current = frames[frames.length - 1];
    if (current && pieces.length > 0) current.payload = Buffer.concat(pieces);
    pieces = [];
  };
  for (const event of raw.events) {
    const current = frames[frames.length - 1];
    if (event.type === 'start') {
      joinPieces();
      frames.push({
        opcode: event.opcode,
        fin: event.fin,
        rsv: [event.rsv1, event.rsv2, event.rsv3],
        masked: event.masked,
        length: event.length,
        payload: Buffer.alloc(0),
        ended: false,
      });
    } else if (event.type === 'payload') {
      if (!current || current.ended) throw new Error('payload outside a frame');
      if (event.data.length === 0) throw new Error('empty payload event');
      pieces.push(event.data);
    } else {
      if (!current || current.ended) throw new Error('frame end without a frame');
      current.ended = true;
    }
  }
  joinPieces();
  // After an error the bytes left depend on how much had been fed, so they are not compared.
  const outcome: ParseOutcome = { frames, state: raw.state, remaining: raw.error ? -1 : raw.remaining };
  if (raw.error) outcome.error = raw.error;
  return outcome;
}

export function parseChunks(chunks: Buffer[], options: RawOptions): ParseOutcome {
  return normalize(codec.parse(chunks, options));
}

export function oneByteChunks(bytes: Buffer): Buffer[] {
  return [...bytes].map((byte) => Buffer.from([byte]));
}

/** Split points to try: all of them for small inputs, otherwise the edges and a spread between. */
function splitPoints(length: number): number[] {
  if (length <= 1024) return Array.from({ length: length + 1 }, (_, i) => i);
  const points = new Set<number>();
  for (let i = 0; i <= 32; i++) {
    points.add(i);
    points.add(length - i);
  }
  for (let i = 1; i < 64; i++) points.add(Math.floor((length * i) / 64));
  return [...points].sort((a, b) => a - b);
}

/** A string form of an outcome: comparing these is fast even for large payloads. */
export function fingerprint(outcome: ParseOutcome): string {
  return JSON.stringify(outcome, (_key, value: unknown) => {
    if (typeof value === 'bigint') return `${value}n`;
    if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer') {
      return Buffer.from((value as { data: number[] }).data).toString('hex');
    }
    return value;
  });
}

/**
 * Parses `bytes` whole, then again in 1-byte chunks (also pausing after every callback, and with all
 * 1-byte chains buffered before parsing) and at every two-part split; every way must give the same
 * outcome, which is returned for the test's own assertions.
 */
export function parseEverySplit(bytes: Buffer, options: ParseOptions): ParseOutcome {
  const whole = parseChunks([bytes], options);
  const expected = fingerprint(whole);
  const same = (chunks: Buffer[], how: string, extra: Partial<RawOptions> = {}) =>
    expect(fingerprint(parseChunks(chunks, { ...options, ...extra })), how).toBe(expected);
  if (bytes.length <= 70_000) {
    const oneByte = oneByteChunks(bytes);
    same(oneByte, '1-byte chunks');
    same(oneByte, '1-byte chains at once', { feedAllFirst: true });
    same(oneByte, '1-byte chunks, pausing', { pauseAlways: true });
  }
  for (const at of splitPoints(bytes.length))
    same([bytes.subarray(0, at), bytes.subarray(at)], `split at ${at}`);
  same([bytes], 'pausing after every callback', { pauseAlways: true });
  return whole;
}

export const server: ParseOptions = { server: true };
export const client: ParseOptions = { server: false };
