// Deadlines that all lie the same time after their start (a server's handshakes, which share one
// handshakeTimeout), behind one timer. They expire in the order they were added, so only the
// oldest one's deadline needs a timer. A timer per handshake was a Timeout object, an async
// resource and a timer-list insertion and removal for every connection accepted.

export class DeadlineQueue<T> {
  /** Each item's deadline (performance.now() milliseconds), oldest first (a Map keeps insertion order). */
  readonly #deadlines = new Map<T, number>();
  readonly #timeoutMs: number;
  readonly #onExpired: (item: T) => void;
  readonly #fire = () => this.#expire();
  #timer: NodeJS.Timeout | null = null;

  /** `onExpired(item)` runs for each item still here `timeoutMs` after its add(). */
  constructor(timeoutMs: number, onExpired: (item: T) => void) {
    this.#timeoutMs = timeoutMs;
    this.#onExpired = onExpired;
  }

  get size(): number {
    return this.#deadlines.size;
  }

  add(item: T): void {
    this.#deadlines.set(item, performance.now() + this.#timeoutMs);
    if (this.#timer === null) this.#timer = setTimeout(this.#fire, this.#timeoutMs);
  }

  /** Removes `item` before its deadline; false when it was not here (expired, or never added). */
  delete(item: T): boolean {
    if (!this.#deadlines.delete(item)) return false;
    // Nothing left to wait for: the timer must not keep the process alive.
    if (this.#deadlines.size === 0) this.#stopTimer();
    return true;
  }

  /** The items, oldest first, and the queue emptied (none of them expires). */
  takeAll(): T[] {
    const items = [...this.#deadlines.keys()];
    this.#deadlines.clear();
    this.#stopTimer();
    return items;
  }

  #expire(): void {
    this.#timer = null;
    const now = performance.now();
    try {
      for (const [item, deadline] of this.#deadlines) {
        if (deadline > now) break;
        this.#deadlines.delete(item);
        this.#onExpired(item);
      }
    } finally {
      // Also after an onExpired that threw (its exception goes on to the process, as a timer's):
      // the items after it still expire on time.
      this.#armForOldest();
    }
  }

  #armForOldest(): void {
    if (this.#timer !== null) return;
    const oldest = this.#deadlines.values().next();
    if (oldest.done === true) return;
    // Node's timers may fire up to a millisecond before performance.now() reaches the deadline;
    // that wakeup finds nothing due and waits again.
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(oldest.value - performance.now())));
  }

  #stopTimer(): void {
    if (this.#timer === null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
  }
}
