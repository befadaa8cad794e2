// A FIFO ring of fixed capacity: push() on a full queue drops the oldest item and returns it, so
// the queue's memory is fixed when it is made.
export class BoundedQueue<T> {
  readonly #slots: Array<T | undefined>;
  #head = 0;
  #length = 0;

  constructor(readonly capacity: number) {
    this.#slots = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.#length;
  }

  /** Adds `item` last; when full, first removes and returns the oldest item. */
  push(item: T): T | undefined {
    let dropped: T | undefined;
    if (this.#length === this.capacity) dropped = this.shift();
    this.#slots[(this.#head + this.#length) % this.capacity] = item;
    this.#length++;
    return dropped;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#slots[this.#head];
    this.#slots[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#length--;
    return item;
  }

  clear(): void {
    while (this.#length > 0) this.shift();
  }
}
