// Giving back, once a burst of handshakes is over, the young generation the burst grew.
//
// V8 doubles its young generation each time more of it survives collections than it holds, and
// a burst of handshakes does that: every new socket's objects survive. Ten thousand handshakes
// grow it to its cap (16 MiB), about 0.9 KiB of resident memory per connection on top of what the
// connections themselves cost. V8 shrinks it only at a full collection that reduces memory or sees
// a low allocation rate, and its memory reducer, which would run such a collection once the
// process is idle, starts only after the old generation grew by 10 MiB; a burst of lean sockets
// grows it less than that, so an idle server kept the burst's young generation for good. So the
// servers count their handshakes, and when a burst has ended (a quiet interval with none) and the
// young generation is larger than V8 keeps it in a quiet process, they ask V8 for one
// memory-reducing collection (incremental, as under moderate memory pressure; see
// native/memory_reduction.cc).
import { getHeapSpaceStatistics } from 'node:v8';
import { native } from '../native.ts';

/**
 * Handshakes that make a burst worth a look: the young generation first grows once 1 MiB has
 * survived its collections, after about 1,500 handshakes.
 */
const BURST_HANDSHAKES = 1000;
/** A burst is over once this long passed without a handshake. */
const QUIET_MS = 500;
/**
 * Grown: V8 starts the young generation at 1 or 2 MiB (what a memory-reducing collection brings it
 * back to) and doubles it from there; twice grown is worth a collection. Not relative to its size
 * at startup, which loading a large application can have grown already.
 */
const GROWN_YOUNG_BYTES = 4 * 1024 * 1024;

function youngGenerationBytes(): number {
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space') return space.space_size;
  }
  return 0;
}

class BurstMemoryReducer {
  /** Handshakes since the last look at the young generation. */
  #handshakes = 0;
  /** Handshakes since the quiet interval began. */
  #recent = 0;
  #timer: NodeJS.Timeout | null = null;
  /** Collections asked for so far (for tests). */
  reductions = 0;

  /** A server accepted one more handshake. Cheap: two counts and a comparison. */
  noteHandshake(): void {
    this.#recent++;
    if (++this.#handshakes >= BURST_HANDSHAKES && this.#timer === null) this.#waitForQuiet();
  }

  #waitForQuiet(): void {
    this.#recent = 0;
    // Unreferenced: an idle process with no other work still exits.
    this.#timer = setTimeout(() => this.#intervalEnded(), QUIET_MS).unref();
  }

  #intervalEnded(): void {
    this.#timer = null;
    if (this.#recent > 0) {
      this.#waitForQuiet(); // the burst goes on
      return;
    }
    this.#handshakes = 0;
    if (youngGenerationBytes() > GROWN_YOUNG_BYTES) {
      native.reduceMemory();
      this.reductions++;
    }
  }
}

/** One per thread: the young generation is the whole isolate's, whichever server grew it. */
export const burstMemory = new BurstMemoryReducer();
