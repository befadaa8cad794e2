// Reading the receive pool in which the native connection hands over the small messages of one
// read (native/ws/message_batch.h): each batch is its payloads side by side, then an index of
// (offset in the pool, length) pairs whose top length bit marks a binary message. A message
// becomes a Buffer view of the pool, so a batch costs no allocation but the views.
import { Buffer } from 'node:buffer'; // not the global: an accessor in Node 20

const BINARY_BIT = 0x80000000;
const LENGTH_MASK = 0x7fffffff;

// The index view of the current pool: pools are replaced only when full, so this is made rarely.
let indexedPool: ArrayBufferLike | null = null;
let poolIndex: Uint32Array = new Uint32Array(0);

/** The pool's bytes as 32-bit words; an entry at byte `indexAt` is at word `indexAt / 4`. */
export function poolIndexOf(pool: Buffer): Uint32Array {
  // The addon's Buffers start their own ArrayBuffer, so the words are aligned. Were they not, the
  // words are copied for this batch only: a copy kept would miss the later batches of the pool.
  if (pool.byteOffset % 4 !== 0) {
    return new Uint32Array(Uint8Array.prototype.slice.call(pool, 0, pool.length & ~3).buffer);
  }
  if (pool.buffer !== indexedPool) {
    indexedPool = pool.buffer;
    poolIndex = new Uint32Array(pool.buffer, pool.byteOffset, pool.length >>> 2);
  }
  return poolIndex;
}

/**
 * The message of the entry at word `entry` of `index`, in `memory` (the pool's ArrayBuffer, read
 * once per batch by the caller: the getter costs as much as making the view) from `base` (its
 * byteOffset).
 */
export function poolMessage(memory: ArrayBuffer, base: number, index: Uint32Array, entry: number): Buffer {
  return Buffer.from(memory, base + index[entry]!, index[entry + 1]! & LENGTH_MASK);
}

export function isBinaryEntry(index: Uint32Array, entry: number): boolean {
  return (index[entry + 1]! & BINARY_BIT) !== 0;
}
