// Reading the slab in which the native connection hands over the small messages of one read
// (native/ws/message_batch.h): the payloads side by side, then an index of (offset, length) pairs
// whose top length bit marks a binary message. Each message becomes a Buffer view of the slab, so
// a batch costs one allocation however many messages it holds.

const BINARY_BIT = 0x80000000;
const LENGTH_MASK = 0x7fffffff;

export class MessageBatch {
  readonly count: number;
  readonly #slab: Buffer;
  readonly #index: Uint32Array;

  constructor(slab: Buffer, count: number, indexOffset: number) {
    this.count = count;
    this.#slab = slab;
    const start = slab.byteOffset + indexOffset;
    // The addon's Buffers start their own ArrayBuffer, so the index is aligned; copied if not.
    this.#index =
      start % 4 === 0
        ? new Uint32Array(slab.buffer, start, count * 2)
        : new Uint32Array(slab.buffer.slice(start, start + count * 8));
  }

  data(i: number): Buffer {
    return Buffer.from(
      this.#slab.buffer,
      this.#slab.byteOffset + this.#index[2 * i]!,
      this.#index[2 * i + 1]! & LENGTH_MASK,
    );
  }

  isBinary(i: number): boolean {
    return (this.#index[2 * i + 1]! & BINARY_BIT) !== 0;
  }
}
