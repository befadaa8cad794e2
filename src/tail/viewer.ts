// One viewer of a followed file: items go straight to its sink while the sink takes them, and into
// a bounded queue while it is full. A full queue drops its oldest lines; the viewer is told how many
// with a 'skipped' notice before the next items it gets.
import { BoundedQueue } from './bounded-queue.ts';
import { skippedNotice, type TailItem } from './items.ts';
import type { TailSink } from './sink.ts';

export interface TailViewerStats {
  /** Items waiting for the sink (never above the queue's capacity). */
  queued: number;
  /** Lines dropped so far because the sink was full and the queue too. */
  skippedLines: number;
  /** Items written to the sink, notices included. */
  delivered: number;
}

export class TailViewer {
  readonly logId: string;
  readonly user: string | undefined;
  readonly #sink: TailSink;
  readonly #queue: BoundedQueue<TailItem>;
  readonly #batchLines: number;
  readonly #onStop: (viewer: TailViewer) => void;
  readonly #onError: (error: unknown) => void;
  readonly #unregisterDrain: (() => void) | void;
  #full = false;
  // A sink may call its drain listener from inside write(): counted, so that write's "full" answer
  // given before that drain does not stick.
  #drains = 0;
  #writing = false;
  #stopped = false;
  #unreportedSkips = 0;
  #skippedLines = 0;
  #delivered = 0;

  /** @internal Made by TailEngine.open(). */
  constructor(options: {
    logId: string;
    user: string | undefined;
    sink: TailSink;
    queueLines: number;
    batchLines: number;
    onStop: (viewer: TailViewer) => void;
    onError: (error: unknown) => void;
  }) {
    this.logId = options.logId;
    this.user = options.user;
    this.#sink = options.sink;
    this.#queue = new BoundedQueue(options.queueLines);
    this.#batchLines = options.batchLines;
    this.#onStop = options.onStop;
    this.#onError = options.onError;
    this.#unregisterDrain = this.#sink.onDrain(() => {
      this.#drains++;
      this.#full = false;
      if (!this.#writing) this.#flush();
    });
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  stats(): TailViewerStats {
    return { queued: this.#queue.length, skippedLines: this.#skippedLines, delivered: this.#delivered };
  }

  /** @internal Items from the follower, in file order. */
  deliver(items: readonly TailItem[]): void {
    if (this.#stopped || items.length === 0) return;
    let from = 0;
    // Straight to the sink while it takes them and nothing older is waiting.
    while (!this.#full && this.#queue.length === 0 && this.#unreportedSkips === 0 && from < items.length) {
      const batch = items.slice(from, from + this.#batchLines);
      from += batch.length;
      this.#write(batch);
      if (this.#stopped) return;
    }
    for (; from < items.length; from++) {
      const dropped = this.#queue.push(items[from]!);
      if (dropped?.type === 'line') {
        this.#unreportedSkips++;
        this.#skippedLines++;
      }
    }
    this.#flush();
  }

  /** Stops delivery and frees the queue; the follower stops when its last viewer has. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#queue.clear();
    if (typeof this.#unregisterDrain === 'function') this.#unregisterDrain();
    this.#onStop(this);
  }

  #flush(): void {
    while (!this.#full && !this.#stopped && (this.#queue.length > 0 || this.#unreportedSkips > 0)) {
      const batch: TailItem[] = [];
      if (this.#unreportedSkips > 0) {
        batch.push(skippedNotice(this.#unreportedSkips));
        this.#unreportedSkips = 0;
      }
      while (batch.length < this.#batchLines && this.#queue.length > 0) batch.push(this.#queue.shift()!);
      this.#write(batch);
    }
  }

  #write(batch: TailItem[]): void {
    const drains = this.#drains;
    let more: boolean;
    this.#writing = true;
    try {
      more = this.#sink.write(batch);
    } catch (error) {
      // A sink that throws (its socket is gone) ends this viewer only, not the file's other viewers.
      this.stop();
      this.#onError(error);
      return;
    } finally {
      this.#writing = false;
    }
    this.#delivered += batch.length;
    if (!more && this.#drains === drains) this.#full = true;
  }
}
