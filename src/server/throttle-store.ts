// Where login throttling keeps its counters. The store applies the whole rule for one key in one
// call (count an attempt in a fixed window, block when the limit is reached), so a shared store
// (Redis, for several workers) can do it atomically, e.g. in one script. Only the in-memory store exists
// today; a Redis one implements the same interface.
import { ServerError } from './errors.ts';

export interface ThrottleRule {
  /** Attempts within one window; the one that reaches it blocks the key. */
  readonly limit: number;
  /** The window starts at a key's first attempt and lasts this long; then the count starts again. */
  readonly windowMs: number;
  /** How long a key stays blocked once it reached the limit. */
  readonly cooldownMs: number;
}

export interface ThrottleState {
  /** Attempts counted in the current window. */
  readonly attempts: number;
  /** Milliseconds the key stays blocked; 0 when it is not. */
  readonly blockedForMs: number;
}

export interface AttemptVerdict {
  /** False: the key was blocked and nothing was counted. True: the attempt was counted. */
  readonly allowed: boolean;
  /** Milliseconds the key is blocked for after this call (an allowed attempt that reached the limit starts it). */
  readonly blockedForMs: number;
}

export interface LoginThrottleStore {
  /**
   * Counts one login attempt for `key` under `rule`, unless the key is blocked (then counts nothing).
   * The attempt that brings the window's count to `rule.limit` starts the block. Counting before the
   * password is checked is what keeps many attempts sent at once from all getting through.
   */
  recordAttempt(key: string, rule: ThrottleRule): Promise<AttemptVerdict>;
  /** Takes back one counted attempt (it succeeded), lifting a block that attempt started. */
  refund(key: string, rule: ThrottleRule): Promise<void>;
  /** The key's current state (0 and not blocked for a key never seen or expired). */
  state(key: string): Promise<ThrottleState>;
  /** Forgets the key's attempts and any block. */
  reset(key: string): Promise<void>;
}

interface Entry {
  attempts: number;
  windowEndsAt: number;
  blockedUntil: number;
}

export interface MemoryThrottleStoreOptions {
  /** Keys tracked at most; beyond it the least recently attempted key is forgotten. Default 100 000. */
  readonly maxKeys?: number;
  /** Milliseconds clock (tests inject a fake one). Default `Date.now`. */
  readonly now?: () => number;
}

const NOT_THROTTLED: ThrottleState = Object.freeze({ attempts: 0, blockedForMs: 0 });

/**
 * Counters in a Map, for one process. Memory is bounded: an entry lives until its window and block
 * have both ended (expired entries are pruned as new attempts arrive, oldest first) and at most
 * `maxKeys` are kept. When full, the least recently attempted key is forgotten: an attacker who can fail
 * from that many different addresses and names could make the store forget a key early, which is why
 * the cap is high (each entry is about 150 bytes).
 */
export class MemoryThrottleStore implements LoginThrottleStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxKeys: number;
  readonly #now: () => number;
  #evictions = 0;

  constructor({ maxKeys = 100_000, now = Date.now }: MemoryThrottleStoreOptions = {}) {
    if (!Number.isInteger(maxKeys) || maxKeys < 1)
      throw new ServerError(`maxKeys must be a positive integer, got ${String(maxKeys)}`, 'ERR_INVALID_ARG');
    if (typeof now !== 'function') throw new ServerError('now must be a function', 'ERR_INVALID_ARG');
    this.#maxKeys = maxKeys;
    this.#now = now;
  }

  /** Keys tracked now (expired ones not yet pruned included). */
  get size(): number {
    return this.#entries.size;
  }

  /** Keys forgotten because the store was full. */
  get evictions(): number {
    return this.#evictions;
  }

  async recordAttempt(key: string, rule: ThrottleRule): Promise<AttemptVerdict> {
    const now = this.#now();
    this.#pruneExpired(now);
    let entry = this.#live(key, now);
    if (entry !== undefined && entry.blockedUntil > now)
      return { allowed: false, blockedForMs: entry.blockedUntil - now };
    if (entry === undefined || entry.windowEndsAt <= now)
      entry = { attempts: 0, windowEndsAt: now + rule.windowMs, blockedUntil: 0 };
    entry.attempts += 1;
    if (entry.attempts >= rule.limit) entry.blockedUntil = now + rule.cooldownMs;
    // Re-inserted so the Map's order is the order of last attempt (oldest first, for pruning and eviction).
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxKeys) this.#evictOldest();
    this.#entries.set(key, entry);
    return { allowed: true, blockedForMs: Math.max(0, entry.blockedUntil - now) };
  }

  async refund(key: string, rule: ThrottleRule): Promise<void> {
    const entry = this.#live(key, this.#now());
    if (entry === undefined) return;
    entry.attempts = Math.max(0, entry.attempts - 1);
    if (entry.attempts < rule.limit) entry.blockedUntil = 0;
  }

  async state(key: string): Promise<ThrottleState> {
    const now = this.#now();
    const entry = this.#live(key, now);
    return entry === undefined ? NOT_THROTTLED : stateOf(entry, now);
  }

  async reset(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  /** Removes every expired entry (a full pass; recordAttempt prunes only from the oldest end). */
  prune(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (expired(entry, now)) this.#entries.delete(key);
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || !expired(entry, now)) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  #pruneExpired(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (!expired(entry, now)) break;
      this.#entries.delete(key);
    }
  }

  #evictOldest(): void {
    const oldest = this.#entries.keys().next();
    if (oldest.done === true) return;
    this.#entries.delete(oldest.value);
    this.#evictions += 1;
  }
}

function expired(entry: Entry, now: number): boolean {
  return entry.windowEndsAt <= now && entry.blockedUntil <= now;
}

function stateOf(entry: Entry, now: number): ThrottleState {
  const blocked = Math.max(0, entry.blockedUntil - now);
  return { attempts: entry.windowEndsAt > now ? entry.attempts : 0, blockedForMs: blocked };
}
