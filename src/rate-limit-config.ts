// Validation of rate-limit settings, shared by Bufferevent.setRateLimit and RateLimitGroup. Every
// number is bounded here so that libevent's token-bucket arithmetic (ev_ssize_t buckets, a tick of
// whole milliseconds it divides by) can neither overflow nor divide by zero.
import { BuffereventError } from './errors.ts';
import { MAX_TIMEOUT_MS } from './validate.ts';

export interface RateLimit {
  /** Bytes per second; omitted: reading is not limited. */
  readRate?: number;
  /** Bucket size in bytes (at least one tick's worth). The bucket starts full. */
  readBurst?: number;
  writeRate?: number;
  writeBurst?: number;
  /** How often the buckets refill, in whole ms from 1 to 2^31 - 1. Default 100. */
  tickMs?: number;
}

export interface CheckedRateLimit extends RateLimit {
  tickMs: number;
}

/** 1 TiB/s: far above any link, and rate × tick stays inside libevent's signed bucket sizes. */
export const MAX_RATE = 2 ** 40;
/** The largest bucket libevent is handed (2^52 bytes). */
export const MAX_BURST = 2 ** 52;

function positive(value: unknown, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new BuffereventError(
      `${name} must be a positive number up to ${max}, got ${typeof value === 'number' ? value : typeof value}`,
      'ERR_INVALID_RATE_LIMIT',
    );
  }
  return value;
}

export function checkRateLimit(limit: unknown): CheckedRateLimit {
  if (typeof limit !== 'object' || limit === null) {
    throw new BuffereventError(
      'a rate limit is an object { readRate, readBurst, writeRate, writeBurst, tickMs }',
      'ERR_INVALID_RATE_LIMIT',
    );
  }
  const given = limit as RateLimit;
  const tickMs = given.tickMs ?? 100;
  if (typeof tickMs !== 'number' || !Number.isInteger(tickMs) || tickMs < 1 || tickMs > MAX_TIMEOUT_MS) {
    throw new BuffereventError(
      `tickMs must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${String(tickMs)}`,
      'ERR_INVALID_RATE_LIMIT',
    );
  }
  const checked: CheckedRateLimit = { tickMs };
  for (const [key, max] of [
    ['readRate', MAX_RATE],
    ['readBurst', MAX_BURST],
    ['writeRate', MAX_RATE],
    ['writeBurst', MAX_BURST],
  ] as const) {
    const value = positive(given[key], key, max);
    if (value !== undefined) checked[key] = value;
  }
  if (checked.readBurst !== undefined && checked.readRate === undefined) {
    throw new BuffereventError('readBurst needs readRate', 'ERR_INVALID_RATE_LIMIT');
  }
  if (checked.writeBurst !== undefined && checked.writeRate === undefined) {
    throw new BuffereventError('writeBurst needs writeRate', 'ERR_INVALID_RATE_LIMIT');
  }
  return checked;
}
