// Rate limits for socket bufferevents (libevent's token buckets): per bufferevent with
// Bufferevent.setRateLimit, or shared by a RateLimitGroup.
import { native, type NativeRateLimitGroup } from './native.ts';
import { BuffereventError } from './errors.ts';
import { buffereventHandles } from './native-handles.ts';
import { checkRateLimit, type RateLimit } from './rate-limit-config.ts';
import type { Bufferevent } from './bufferevent.ts';

export type { RateLimit } from './rate-limit-config.ts';

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
    this.#native.add(buffereventHandles.of(bev, 'bev'));
    return this;
  }

  remove(bev: Bufferevent): this {
    this.#check();
    this.#native.remove(buffereventHandles.of(bev, 'bev'));
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
