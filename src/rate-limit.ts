// Rate limits for socket bufferevents (libevent's token buckets): per bufferevent with
// Bufferevent.setRateLimit, or shared by a RateLimitGroup.
import { native, type NativeRateLimitGroup } from './native.ts';
import { BuffereventError } from './errors.ts';
import type { Bufferevent } from './bufferevent.ts';

function requireBufferevent(value: unknown): Bufferevent {
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Bufferevent).unwrapNative !== 'function'
  ) {
    throw new BuffereventError('expected a socket Bufferevent', 'ERR_INVALID_ARG');
  }
  return value as Bufferevent;
}

export interface RateLimit {
  /** Bytes per second; omitted: reading is not limited. */
  readRate?: number;
  /** Bucket size in bytes (at least one tick's worth). The bucket starts full. */
  readBurst?: number;
  writeRate?: number;
  writeBurst?: number;
  /** How often the buckets refill, in ms. Default 100. */
  tickMs?: number;
}

export interface CheckedRateLimit extends RateLimit {
  tickMs: number;
}

function positive(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new BuffereventError(
      `${name} must be a positive number, got ${String(value)}`,
      'ERR_INVALID_RATE_LIMIT',
    );
  }
  return value;
}

export function checkRateLimit(limit: RateLimit): CheckedRateLimit {
  if (typeof limit !== 'object' || limit === null) {
    throw new BuffereventError(
      'a rate limit is an object { readRate, readBurst, writeRate, writeBurst, tickMs }',
      'ERR_INVALID_RATE_LIMIT',
    );
  }
  const checked: CheckedRateLimit = { tickMs: positive(limit.tickMs, 'tickMs') ?? 100 };
  for (const key of ['readRate', 'readBurst', 'writeRate', 'writeBurst'] as const) {
    const value = positive(limit[key], key);
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

/** bufferevent_rate_limit_group: the members share one read and one write bucket. */
export class RateLimitGroup {
  readonly #native: NativeRateLimitGroup;
  #freed = false;

  constructor(limit: RateLimit) {
    this.#native = new native.RateLimitGroup(this, checkRateLimit(limit));
  }

  /** Adds a socket bufferevent (bufferevent_add_to_rate_limit_group). */
  add(bev: Bufferevent): this {
    this.#check();
    this.#native.add(requireBufferevent(bev).unwrapNative());
    return this;
  }

  remove(bev: Bufferevent): this {
    this.#check();
    this.#native.remove(requireBufferevent(bev).unwrapNative());
    return this;
  }

  /** Replaces the shared rates (bufferevent_rate_limit_group_set_cfg). */
  setRate(limit: RateLimit): this {
    this.#check();
    this.#native.setRate(checkRateLimit(limit));
    return this;
  }

  /** Bytes read and written by all members since creation or resetTotals(). */
  get totals(): { read: number; written: number; members: number } {
    this.#check();
    return this.#native.totals();
  }

  resetTotals(): this {
    this.#check();
    this.#native.resetTotals();
    return this;
  }

  /** Removes every member and frees the group. Idempotent. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#native.free();
  }

  [Symbol.dispose](): void {
    this.free();
  }

  #check(): void {
    if (this.#freed) throw new BuffereventError('this rate-limit group was freed', 'ERR_FREED');
  }
}
