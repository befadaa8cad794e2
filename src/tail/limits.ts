// The tail engine's limits: every buffer it keeps per file or per viewer is bounded by one of these.
import { BuffereventError } from '../errors.ts';

export interface TailLimits {
  /** Lines of backlog a viewer gets when it starts. Default 100. */
  backlogLines: number;
  /** At most this many bytes are read from the end of the file for the backlog. Default 256 KiB. */
  backlogBytes: number;
  /** Longer lines are cut to this many bytes, with a marker. Default 8 KiB. */
  maxLineBytes: number;
  /** Items queued for a viewer whose sink is full; beyond it the oldest lines are dropped. Default 1,000. */
  viewerQueueLines: number;
  /** Bytes read from a file per loop pass. Default 64 KiB. */
  readChunkBytes: number;
  /** Items per sink.write() call. Default 256. */
  batchLines: number;
}

export const DEFAULT_TAIL_LIMITS: Readonly<TailLimits> = Object.freeze({
  backlogLines: 100,
  backlogBytes: 256 * 1024,
  maxLineBytes: 8 * 1024,
  viewerQueueLines: 1000,
  readChunkBytes: 64 * 1024,
  batchLines: 256,
});

const RANGES: Record<keyof TailLimits, [number, number]> = {
  backlogLines: [0, 100_000],
  backlogBytes: [0, 64 * 1024 * 1024],
  maxLineBytes: [64, 1024 * 1024],
  viewerQueueLines: [1, 10_000_000],
  readChunkBytes: [1024, 16 * 1024 * 1024],
  batchLines: [1, 100_000],
};

/** The defaults with `given` applied; ERR_TAIL_CONFIG naming the key for an unknown key or a value out of range. */
export function resolveTailLimits(given: unknown = {}): TailLimits {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new BuffereventError('tail limits must be an object', 'ERR_TAIL_CONFIG');
  }
  const limits: TailLimits = { ...DEFAULT_TAIL_LIMITS };
  for (const [key, value] of Object.entries(given)) {
    if (!Object.hasOwn(RANGES, key)) {
      throw new BuffereventError(
        `unknown tail limit "${key}" (known: ${Object.keys(RANGES).join(', ')})`,
        'ERR_TAIL_CONFIG',
      );
    }
    if (value === undefined) continue;
    const [min, max] = RANGES[key as keyof TailLimits];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new BuffereventError(
        `tail limit ${key} must be an integer from ${min} to ${max}, got ${String(value)}`,
        'ERR_TAIL_CONFIG',
      );
    }
    limits[key as keyof TailLimits] = value;
  }
  return limits;
}
