// Filters for Bufferevent.filter(): JavaScript functions, or native filters shipped with the library
// (these run entirely in C++, never crossing into JavaScript per chunk).
import { BuffereventError } from './errors.ts';
import type { EvBuffer } from './evbuffer.ts';
import { requireInteger } from './validate.ts';

export type FilterResult = 'ok' | 'need-more' | 'error';
/** libevent's flush modes, as passed to a filter: BEV.NORMAL, BEV.FLUSH or BEV.FINISHED. */
export type FlushMode = 0 | 1 | 2;

/**
 * Moves what it can from `src` to `dst`, adding at most `limit` bytes to `dst` (-1: no limit).
 * Returning 'error' or throwing raises exactly one BEV.ERROR event (code ERR_FILTER) on the filter.
 */
export type FilterFunction = (src: EvBuffer, dst: EvBuffer, limit: number, mode: FlushMode) => FilterResult;

export interface NativeFilterDescriptor {
  readonly native: 'deflate' | 'inflate' | 'lines';
  readonly options: Readonly<Record<string, number>>;
}

export type Filter = FilterFunction | NativeFilterDescriptor;

export interface ZlibFilterOptions {
  /** 0..9, or -1 for zlib's default. */
  level?: number;
  /** 8..15 for the zlib format (default 15), -8..-15 for raw deflate, 24..31 for gzip. */
  windowBits?: number;
  memLevel?: number;
  strategy?: number;
}

function zlibOptions(options: ZlibFilterOptions, compress: boolean): Record<string, number> {
  const checked: Record<string, number> = {};
  if (options.level !== undefined)
    checked.level = requireInteger(options.level, 'level', -1, 9, 'ERR_INVALID_FILTER');
  if (options.windowBits !== undefined) {
    const bits = requireInteger(options.windowBits, 'windowBits', -15, 47, 'ERR_INVALID_FILTER');
    const magnitude = Math.abs(bits) & 15;
    if (magnitude < 8 && !(bits === 0 && !compress)) {
      throw new BuffereventError(`windowBits ${bits} is not a zlib window size`, 'ERR_INVALID_FILTER');
    }
    checked.windowBits = bits;
  }
  if (options.memLevel !== undefined)
    checked.memLevel = requireInteger(options.memLevel, 'memLevel', 1, 9, 'ERR_INVALID_FILTER');
  if (options.strategy !== undefined)
    checked.strategy = requireInteger(options.strategy, 'strategy', 0, 4, 'ERR_INVALID_FILTER');
  return checked;
}

export const filters = Object.freeze({
  /** Compresses with zlib; BEV.FLUSH emits everything so far, BEV.FINISHED ends the stream. */
  deflate(options: ZlibFilterOptions = {}): NativeFilterDescriptor {
    return Object.freeze({ native: 'deflate' as const, options: zlibOptions(options, true) });
  },
  /** Decompresses; the underlying EOF before the stream's end is an ERR_FILTER error (truncated). */
  inflate(options: Pick<ZlibFilterOptions, 'windowBits'> = {}): NativeFilterDescriptor {
    return Object.freeze({ native: 'inflate' as const, options: zlibOptions(options, false) });
  },
  /** Passes whole lines only; a line longer than maxLength bytes is an ERR_FILTER error. */
  lines(options: { maxLength?: number } = {}): NativeFilterDescriptor {
    const maxLength = requireInteger(
      options.maxLength ?? 65536,
      'maxLength',
      1,
      2 ** 31,
      'ERR_INVALID_FILTER',
    );
    return Object.freeze({ native: 'lines' as const, options: { maxLength } });
  },
});

export function isNativeFilter(filter: unknown): filter is NativeFilterDescriptor {
  return (
    typeof filter === 'object' &&
    filter !== null &&
    typeof (filter as NativeFilterDescriptor).native === 'string'
  );
}
