// Session stores. The interface is async so a Redis store can implement it; MemorySessionStore is
// the default: one process, bounded (the oldest entries are evicted past `maxEntries`), entries
// expiring `maxAge` seconds after they were last set or touched.

/** A session's data: JSON values by key. */
export type SessionData = Record<string, unknown>;

export interface SessionStore {
  /** The data of a live session, or undefined (unknown or expired). */
  get(id: string): Promise<SessionData | undefined>;
  /** Stores the data, live for `maxAgeSeconds` from now. */
  set(id: string, data: SessionData, maxAgeSeconds: number): Promise<void>;
  delete(id: string): Promise<void>;
  /** Extends a live session's life to `maxAgeSeconds` from now; nothing for an unknown one. */
  touch(id: string, maxAgeSeconds: number): Promise<void>;
}

export interface MemorySessionStoreOptions {
  /** Sessions held at most; the least recently set or touched is evicted first. Default 10,000. */
  readonly maxEntries?: number;
  /** The clock in milliseconds (tests move it). Default Date.now. */
  readonly now?: () => number;
}

interface Entry {
  readonly json: string;
  expiresAt: number;
}

export class MemorySessionStore implements SessionStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: MemorySessionStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError('MemorySessionStore: maxEntries must be a positive integer');
    this.#maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): Promise<SessionData | undefined> {
    const entry = this.#live(id);
    // Stored as JSON so callers never share (or mutate) the stored object.
    return Promise.resolve(entry === undefined ? undefined : (JSON.parse(entry.json) as SessionData));
  }

  set(id: string, data: SessionData, maxAgeSeconds: number): Promise<void> {
    this.#entries.delete(id);
    this.#entries.set(id, { json: JSON.stringify(data), expiresAt: this.#now() + maxAgeSeconds * 1000 });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return Promise.resolve();
  }

  delete(id: string): Promise<void> {
    this.#entries.delete(id);
    return Promise.resolve();
  }

  touch(id: string, maxAgeSeconds: number): Promise<void> {
    const entry = this.#live(id);
    if (entry !== undefined) {
      entry.expiresAt = this.#now() + maxAgeSeconds * 1000;
      this.#entries.delete(id);
      this.#entries.set(id, entry);
    }
    return Promise.resolve();
  }

  #live(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry;
  }
}
