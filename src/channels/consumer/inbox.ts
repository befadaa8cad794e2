// A consumer's inbox: the work of one connection (its handshake, each WebSocket message, each
// channel-layer message, its disconnect) runs one task at a time, in arrival order, even when the
// handlers are async. Bounded: a connection that sends faster than its handlers finish is told so
// (push returns false) instead of growing the server's memory.

export type InboxTask = () => unknown;

export class Inbox {
  readonly capacity: number;
  readonly #tasks: InboxTask[] = [];
  #running = false;
  #closed = false;
  #roomWaiters: (() => void)[] = [];
  readonly #onError: (error: unknown) => void;

  /** `onError` gets what a task threw or rejected with; the inbox goes on with the next task. */
  constructor(capacity: number, onError: (error: unknown) => void) {
    this.capacity = capacity;
    this.#onError = onError;
  }

  /** Tasks waiting, not counting the one running. */
  get length(): number {
    return this.#tasks.length;
  }

  /** Queues `task`; false (and nothing queued) when the inbox holds `capacity` tasks or is closed. */
  push(task: InboxTask): boolean {
    if (this.#closed || this.#tasks.length >= this.capacity) return false;
    this.#tasks.push(task);
    if (!this.#running) void this.#run();
    return true;
  }

  /** Queues `task` even when full (a disconnect must always run); false only once closed. */
  pushAlways(task: InboxTask): boolean {
    if (this.#closed) return false;
    this.#tasks.push(task);
    if (!this.#running) void this.#run();
    return true;
  }

  /** Drops every task not started yet. */
  clear(): void {
    this.#tasks.length = 0;
  }

  /** Resolves once the inbox has room (at once if it has); never resolves after close(). */
  whenRoom(): Promise<void> {
    if (this.#tasks.length < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** No task is accepted from now on; queued ones are dropped; the running one finishes. */
  close(): void {
    this.#closed = true;
    this.#tasks.length = 0;
    this.#roomWaiters = [];
  }

  async #run(): Promise<void> {
    this.#running = true;
    while (this.#tasks.length > 0) {
      const task = this.#tasks.shift()!;
      if (this.#roomWaiters.length > 0 && this.#tasks.length < this.capacity) {
        for (const wake of this.#roomWaiters.splice(0)) wake();
      }
      try {
        await task();
      } catch (error) {
        this.#onError(error);
      }
    }
    this.#running = false;
  }
}
