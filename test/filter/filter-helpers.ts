// Shared pieces for the filter tests: JavaScript filters and the underlying bufferevents they sit on.
import { Bufferevent, type EvBuffer, type FilterFunction, type FilterResult } from '../../src/index.ts';
import { socketPairBufferevents } from '../helpers.ts';

/** The underlying kinds a filter is tested over: `underlying` gets filtered, `peer` is its other end. */
export const underlyingKinds = [
  { kind: 'socket', make: (): [Bufferevent, Bufferevent] => socketPairBufferevents() },
  { kind: 'pair', make: (): [Bufferevent, Bufferevent] => Bufferevent.pair() },
] as const;

/** Moves up to `limit` bytes (all when limit < 0) from src to dst through `map`. */
function moveMapped(src: EvBuffer, dst: EvBuffer, limit: number, map: (chunk: Buffer) => Buffer): number {
  const count = limit < 0 ? src.length : Math.min(limit, src.length);
  if (count > 0) dst.add(map(src.remove(count)));
  return count;
}

/** ASCII a-z to A-Z, byte for byte (so lengths never change). */
export function upperAscii(chunk: Buffer): Buffer {
  const out = Buffer.from(chunk);
  for (let i = 0; i < out.length; i++) if (out[i]! >= 0x61 && out[i]! <= 0x7a) out[i] = out[i]! - 0x20;
  return out;
}

export const uppercaseFilter: FilterFunction = (src, dst, limit) =>
  moveMapped(src, dst, limit, upperAscii) > 0 ? 'ok' : 'need-more';

/** A pass-through filter that counts the bytes and calls it made, and the modes it saw. */
export function countingFilter(): FilterFunction & { bytes: number; calls: number; modes: number[] } {
  const filter = Object.assign(
    (src: EvBuffer, dst: EvBuffer, limit: number, mode: number): FilterResult => {
      filter.calls++;
      filter.modes.push(mode);
      const moved = moveMapped(src, dst, limit, (chunk) => chunk);
      filter.bytes += moved;
      return moved > 0 || mode !== 0 ? 'ok' : 'need-more';
    },
    { bytes: 0, calls: 0, modes: [] as number[] },
  );
  return filter;
}

/**
 * Emits only whole `size`-byte records; holds a partial record ('need-more') until it completes.
 * On BEV.FINISHED it emits the partial tail too (the stream's last data).
 */
export function recordFilter(size: number): FilterFunction & { modes: number[] } {
  const filter = Object.assign(
    (src: EvBuffer, dst: EvBuffer, _limit: number, mode: number): FilterResult => {
      filter.modes.push(mode);
      const whole = src.length - (src.length % size);
      if (whole > 0) dst.add(src.remove(whole));
      if (mode === 2 && src.length > 0) {
        dst.add(src.remove());
        return 'ok';
      }
      return whole > 0 ? 'ok' : 'need-more';
    },
    { modes: [] as number[] },
  );
  return filter;
}

export function pattern(size: number, seed = 1): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return data;
}

/** Compressible but not trivial text: numbered lines of words. */
export function text(size: number): Buffer {
  const words = [
    'bufferevent',
    'libevent',
    'filter',
    'deflate',
    'inflate',
    'socket',
    'evbuffer',
    'watermark',
  ];
  const parts: string[] = [];
  let length = 0;
  for (let line = 0; length < size; line++) {
    const entry = `${line} ${words[line % 8]} ${words[(line * 7) % 8]} ${(line * 2654435761) % 1000003}\n`;
    parts.push(entry);
    length += entry.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}
