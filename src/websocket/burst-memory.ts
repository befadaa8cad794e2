// Giving back, once a burst of handshakes is over, the young generation the burst grew.
//
// V8 doubles its young generation each time more of it survives collections than it holds, and
// a burst of handshakes does that: every new socket's objects survive. Ten thousand handshakes
// grow it to 16 MiB or more (its cap is 32 MiB), about 0.9 KiB of resident memory per connection
// on top of what the connections themselves cost. V8 shrinks it only at a full collection that
// reduces memory or sees a low allocation rate, and its memory reducer, which would run such a
// collection once the process is idle, starts only after the old generation's committed memory
// grew by 10 MiB (or 10%) since its last run; a burst of lean sockets grows it less than that, so
// an idle server kept the burst's young generation for good. So the servers report their
// handshakes here, and when a burst has ended (an interval with fewer handshakes than a burst's
// rate) and the young generation is larger than it rests at, one memory-reducing collection is
// asked of V8 (incremental, as under moderate memory pressure; see native/memory_reduction.cc),
// and the evbuffer chains and free pages the burst left natively go back with it.
import { getHeapSpaceStatistics } from 'node:v8';
import { native } from '../native.ts';

/** What the reducer reads and asks for; tests give their own. */
export interface YoungGenerationHooks {
  /** The young generation's size in bytes (V8's new space). */
  youngGenerationBytes(): number;
  /** Asks for a memory-reducing collection; it runs later, incrementally. */
  requestReduction(): void;
  /** Gives back the native memory a burst left free: once per burst, with the first request. */
  releaseFreeMemory(): void;
  now(): number;
}

export interface BurstSettings {
  /** The length of the intervals the handshakes are counted in. */
  intervalMs: number;
  /** An interval with at least this many handshakes continues a burst; one with fewer ends it. */
  busyInterval: number;
  /** A burst of fewer handshakes is left alone. */
  burstHandshakes: number;
  /** The young generation counts as grown above this, and above twice the size it last rested at. */
  grownBytes: number;
  /** At most one request in this long: each is a full collection of the whole process's heap. */
  minGapMs: number;
  /**
   * Requests per reduction: V8 ignores one while it is already marking, so an interval later, if
   * the young generation is not down to half, the request is made again, up to this many times.
   */
  attempts: number;
}

export const BURST_SETTINGS: Readonly<BurstSettings> = Object.freeze({
  // Short, so that the young generation goes back soon after a burst: well within a second.
  intervalMs: 250,
  // 128 handshakes a second: a steady trickle of connections never makes a burst.
  busyInterval: 32,
  // The young generation first grows once 1 MiB has survived its collections, after about 1,500
  // handshakes; fewer cannot have grown it much.
  burstHandshakes: 1000,
  // V8 starts the young generation at 1 or 2 MiB and doubles it from there: twice grown.
  grownBytes: 4 * 1024 * 1024,
  minGapMs: 30_000,
  // 3 s of asking: longer than marking a large heap takes.
  attempts: 12,
});

const V8_HOOKS: YoungGenerationHooks = {
  youngGenerationBytes() {
    for (const space of getHeapSpaceStatistics()) {
      if (space.space_name === 'new_space') return space.space_size;
    }
    return 0;
  },
  requestReduction: () => native.reduceMemory(),
  releaseFreeMemory: () => native.releaseFreeMemory(),
  now: () => performance.now(),
};

export class BurstMemoryReducer {
  readonly #hooks: YoungGenerationHooks;
  readonly #settings: BurstSettings;
  /** Handshakes in the interval under way. */
  #recent = 0;
  /** Handshakes in the burst's busy intervals so far. */
  #burst = 0;
  #timer: NodeJS.Timeout | null = null;
  /** The young generation's size when the pending request was made; 0 when none is pending. */
  #requestedAt = 0;
  #attemptsMade = 0;
  #lastRequestAt = -Infinity;
  /** What the young generation came down to (or stayed at) after the last request. */
  #restingBytes = 0;
  /** Handshakes reported (for tests). */
  handshakes = 0;
  /** Requests that brought the young generation down to half or less (for tests). */
  reductions = 0;

  constructor(hooks: YoungGenerationHooks = V8_HOOKS, settings: Readonly<BurstSettings> = BURST_SETTINGS) {
    this.#hooks = hooks;
    this.#settings = { ...settings };
  }

  /** A server accepted one more handshake. Cheap: counts, and a timer at most every interval. */
  noteHandshake(): void {
    this.handshakes++;
    this.#recent++;
    // Unreferenced: an idle process with no other work still exits.
    this.#timer ??= setTimeout(() => this.#intervalEnded(), this.#settings.intervalMs).unref();
  }

  #intervalEnded(): void {
    const recent = this.#recent;
    this.#recent = 0;
    if (this.#requestedAt > 0) this.#checkRequest();
    if (recent >= this.#settings.busyInterval) {
      this.#burst += recent;
    } else {
      if (this.#burst >= this.#settings.burstHandshakes) this.#requestIfGrown();
      this.#burst = 0;
    }
    if (this.#burst > 0 || this.#requestedAt > 0) this.#timer!.refresh();
    else this.#timer = null;
  }

  #requestIfGrown(): void {
    const now = this.#hooks.now();
    if (now - this.#lastRequestAt < this.#settings.minGapMs) return;
    const young = this.#hooks.youngGenerationBytes();
    // A young generation that rests large (--min-semi-space-size) is left as large as it rests.
    if (young <= Math.max(this.#settings.grownBytes, 2 * this.#restingBytes)) return;
    this.#lastRequestAt = now;
    this.#requestedAt = young;
    this.#attemptsMade = 1;
    this.#hooks.requestReduction();
    this.#hooks.releaseFreeMemory();
  }

  #checkRequest(): void {
    const young = this.#hooks.youngGenerationBytes();
    if (young <= this.#requestedAt / 2) {
      this.reductions++;
    } else if (this.#attemptsMade < this.#settings.attempts) {
      this.#attemptsMade++;
      this.#hooks.requestReduction();
      return;
    }
    // Down, or V8 keeps it (live young data, its flags): either way it rests at this size now.
    this.#restingBytes = young;
    this.#requestedAt = 0;
  }
}

/** One per thread: the young generation is the whole isolate's, whichever server grew it. */
export const burstMemory = new BurstMemoryReducer();
