// The receiving side of the Redis layer, per channel in this process: the receivers waiting (served
// in call order), a small local buffer, and one "pump" per channel that pops from Redis only while
// somebody waits.
//
// No blocking pops: a pump subscribes to the channel's wake topic *before* its first pop, pops with
// a non-blocking script, and when the list is empty waits for a wake (a send publishes one in the
// same script that queues the message, so none can slip between the pop and the wait). The layer
// thus needs two connections whatever the number of channels received, and a receiver that aborts
// never has a blocking pop of its own to cancel. A message popped for a receiver that aborted while
// the pop was in flight goes to the next receiver of that channel here, or into the local buffer for
// the next `receive` — never dropped. Pub/sub wakes lost while a connection was down are made up for
// by waking every pump after a reconnection.
//
// The local buffer also holds group messages for process-specific members (delivered by this
// process from the group topic) while their consumer is not waiting; it is bounded by `capacity`.
import { abortableWaiter, removeWaiter, type Waiter } from './waiter.ts';
import type { ChannelMessage } from './channel-layer.ts';
import type { TopicSubscriptions } from './redis-pubsub.ts';

interface Buffered {
  message: ChannelMessage;
  deadline: number;
}

interface Reader {
  readonly waiters: Waiter[];
  buffered: Buffered[];
  pumping: boolean;
  /** A wake arrived since the pump's last pop began. */
  woken: boolean;
  /** Resolves the pump's wait for a wake. */
  wake: (() => void) | undefined;
}

export interface ReaderBackend {
  /** Pops the channel's oldest live message from Redis (null: none). Rejects coded when unreachable. */
  pop(channel: string): Promise<{ message: ChannelMessage; deadline: number } | null>;
  /** Resolves when the command connection is ready; rejects once the layer is closed. */
  whenReady(): Promise<void>;
  /** The wake topic of a channel. */
  wakeTopic(channel: string): string;
  readonly subscriptions: TopicSubscriptions;
  readonly capacity: number;
  reportError(message: string): void;
}

const RETRY_PAUSE_MS = 100;

export class ChannelReaders {
  readonly #backend: ReaderBackend;
  readonly #readers = new Map<string, Reader>();
  #closed = false;
  /** Group messages for local members dropped because their local buffer was full. */
  droppedLocally = 0;

  constructor(backend: ReaderBackend) {
    this.#backend = backend;
  }

  receive(channel: string, signal: AbortSignal | undefined): Promise<ChannelMessage> {
    const reader = this.#reader(channel);
    const next = this.#takeBuffered(reader);
    if (next !== undefined) {
      this.#forgetIfIdle(channel, reader);
      return Promise.resolve(next);
    }
    return new Promise<ChannelMessage>((resolve, reject) => {
      const waiter = abortableWaiter(signal, resolve, reject, (withdrawn) => {
        if (!removeWaiter(reader.waiters, withdrawn)) return false;
        reader.wake?.(); // lets the pump stop if nobody is left
        this.#forgetIfIdle(channel, reader);
        return true;
      });
      reader.waiters.push(waiter);
      if (!reader.pumping) void this.#pump(channel, reader);
    });
  }

  /** A message for `channel` that this process delivers itself; false when its buffer is full. */
  deliverLocal(channel: string, message: ChannelMessage, deadline: number): boolean {
    const reader = this.#reader(channel);
    const waiter = reader.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(message);
      this.#forgetIfIdle(channel, reader);
      return true;
    }
    this.#prune(reader);
    if (reader.buffered.length >= this.#backend.capacity) {
      this.droppedLocally++;
      this.#forgetIfIdle(channel, reader);
      return false;
    }
    reader.buffered.push({ message, deadline });
    return true;
  }

  /** Something may have been queued on `channel` in Redis. */
  wake(channel: string): void {
    const reader = this.#readers.get(channel);
    if (reader === undefined) return;
    reader.woken = true;
    reader.wake?.();
  }

  /** After a reconnection: wakes may have been lost, so every pump looks again. */
  wakeAll(): void {
    for (const channel of this.#readers.keys()) this.wake(channel);
  }

  clearBuffers(): void {
    for (const [channel, reader] of this.#readers) {
      reader.buffered = [];
      this.#forgetIfIdle(channel, reader);
    }
  }

  /** Drops expired buffered messages and forgets idle channels. */
  sweep(): void {
    for (const [channel, reader] of this.#readers) {
      this.#prune(reader);
      this.#forgetIfIdle(channel, reader);
    }
  }

  close(error: unknown): void {
    this.#closed = true;
    for (const reader of this.#readers.values()) {
      for (const waiter of reader.waiters.splice(0)) waiter.reject(error);
      reader.wake?.();
    }
    this.#readers.clear();
  }

  stats(): { channels: number; waitingReceivers: number; bufferedMessages: number } {
    const stats = { channels: this.#readers.size, waitingReceivers: 0, bufferedMessages: 0 };
    for (const reader of this.#readers.values()) {
      stats.waitingReceivers += reader.waiters.length;
      stats.bufferedMessages += reader.buffered.length;
    }
    return stats;
  }

  async #pump(channel: string, reader: Reader): Promise<void> {
    reader.pumping = true;
    const topic = this.#backend.wakeTopic(channel);
    try {
      // Subscribed before the first pop: a send after the pop found nothing always wakes us.
      await this.#backend.subscriptions.acquire(topic);
      while (reader.waiters.length > 0 && !this.#closed) {
        reader.woken = false;
        let popped: Awaited<ReturnType<ReaderBackend['pop']>>;
        try {
          popped = await this.#backend.pop(channel);
        } catch (error) {
          if (this.#closed) return;
          if ((error as { code?: unknown }).code === 'ERR_CHANNEL_LAYER_UNAVAILABLE') {
            // Receivers keep waiting through an outage; the pump resumes on reconnection (and
            // never retries faster than every RETRY_PAUSE_MS, whatever the connection reports).
            await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
            await this.#backend.whenReady();
            continue;
          }
          reader.waiters.shift()?.reject(error);
          continue;
        }
        if (popped !== null) {
          const waiter = reader.waiters.shift();
          if (waiter !== undefined) waiter.resolve(popped.message);
          else reader.buffered.push(popped); // its receiver aborted during the pop
          continue;
        }
        if (!reader.woken && reader.waiters.length > 0 && !this.#closed)
          await new Promise<void>((resolve) => (reader.wake = resolve));
        reader.wake = undefined;
      }
    } catch (error) {
      // whenReady() rejected: the layer closed.
      if (!this.#closed) this.#backend.reportError(`receive on ${channel} stopped: ${String(error)}`);
    } finally {
      reader.pumping = false;
      reader.wake = undefined;
      this.#backend.subscriptions.release(topic);
      if (this.#readers.get(channel) === reader) {
        // A receiver that arrived while the pump was finishing needs a new one.
        if (reader.waiters.length > 0 && !this.#closed) void this.#pump(channel, reader);
        else this.#forgetIfIdle(channel, reader);
      }
    }
  }

  #reader(channel: string): Reader {
    let reader = this.#readers.get(channel);
    if (reader === undefined) {
      reader = { waiters: [], buffered: [], pumping: false, woken: false, wake: undefined };
      this.#readers.set(channel, reader);
    }
    return reader;
  }

  #takeBuffered(reader: Reader): ChannelMessage | undefined {
    this.#prune(reader);
    return reader.buffered.shift()?.message;
  }

  #prune(reader: Reader): void {
    const now = Date.now();
    if (reader.buffered.some((entry) => entry.deadline <= now))
      reader.buffered = reader.buffered.filter((entry) => entry.deadline > now);
  }

  #forgetIfIdle(channel: string, reader: Reader): void {
    if (reader.waiters.length === 0 && reader.buffered.length === 0 && !reader.pumping)
      this.#readers.delete(channel);
  }
}
