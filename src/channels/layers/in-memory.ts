// InMemoryChannelLayer: Channels' default layer for one process, with no set-up. Channels are FIFO
// queues bounded by `capacity`; a receiver waiting on an empty channel is handed the next message
// directly, so a channel never holds messages and waiting receivers at the same time. Expired
// messages and memberships are dropped whenever their channel or group is touched, and by a sweep
// timer (unref'd, so it never keeps the process alive) for the ones nobody touches again.
import { randomBytes } from 'node:crypto';
import { ChannelFull, ChannelLayerTypeError, layerClosed } from '../errors.ts';
import {
  resolveLayerOptions,
  validateBroadcastData,
  validateChannelName,
  validateGroupName,
  validateMessage,
  type BroadcastResult,
  type ChannelLayer,
  type ChannelLayerOptions,
  type ChannelMessage,
  type GroupSendResult,
  type ReceiveOptions,
  type ResolvedLayerOptions,
} from './channel-layer.ts';
import { LocalGroupSockets, type BroadcastData, type BroadcastOptions } from './group-sockets.ts';
import { abortableWaiter, removeWaiter, type Waiter } from './waiter.ts';

export interface InMemoryChannelLayerOptions extends ChannelLayerOptions {
  /** The clock, in milliseconds (default `Date.now`); tests pass their own to check expiry without waiting. */
  now?: () => number;
}

/** What the layer holds right now (expired entries are dropped first). */
export interface InMemoryChannelLayerStats {
  channels: number;
  queuedMessages: number;
  waitingReceivers: number;
  groups: number;
  memberships: number;
}

interface Queued {
  message: ChannelMessage;
  expiresAt: number;
}

interface ChannelState {
  messages: Queued[];
  waiters: Waiter[];
}

// The sweep only frees memory (correctness comes from pruning on access), so it can be coarse.
const MAX_SWEEP_INTERVAL_MS = 60_000;
const MIN_SWEEP_INTERVAL_MS = 1_000;

export class InMemoryChannelLayer implements ChannelLayer {
  readonly extensions: readonly string[] = Object.freeze(['groups', 'flush']);
  readonly localSockets = new LocalGroupSockets();
  readonly #options: ResolvedLayerOptions;
  readonly #now: () => number;
  readonly #channels = new Map<string, ChannelState>();
  /** group → (channel → when the membership lapses); Map order is join order. */
  readonly #groups = new Map<string, Map<string, number>>();
  #sweepTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: InMemoryChannelLayerOptions = {}) {
    this.#options = resolveLayerOptions(options);
    const now = options.now ?? Date.now;
    if (typeof now !== 'function')
      throw new ChannelLayerTypeError(
        'now must be a function returning milliseconds',
        'ERR_CHANNEL_INVALID_OPTION',
      );
    this.#now = now;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async send(channel: string, message: ChannelMessage): Promise<void> {
    this.#checkOpen('send');
    validateChannelName(channel);
    this.#deliver(channel, validateMessage(message));
  }

  async receive(channel: string, options: ReceiveOptions = {}): Promise<ChannelMessage> {
    this.#checkOpen('receive');
    validateChannelName(channel);
    const signal = options.signal;
    signal?.throwIfAborted();
    const state = this.#channels.get(channel);
    if (state !== undefined) {
      this.#pruneMessages(state);
      const next = state.messages.shift();
      if (next !== undefined) {
        this.#dropIfIdle(channel, state);
        return next.message;
      }
    }
    return this.#wait(channel, signal);
  }

  async newChannel(prefix = 'specific.'): Promise<string> {
    this.#checkOpen('newChannel');
    if (typeof prefix !== 'string') validateChannelName(prefix);
    for (;;) {
      // 12 characters of base64url: letters, digits, '-' and '_', all valid after the '!'.
      const name = validateChannelName(`${prefix}inmemory!${randomBytes(9).toString('base64url')}`);
      if (!this.#channels.has(name)) return name;
    }
  }

  async groupAdd(group: string, channel: string): Promise<void> {
    this.#checkOpen('groupAdd');
    validateGroupName(group);
    validateChannelName(channel);
    let members = this.#groups.get(group);
    if (members === undefined) this.#groups.set(group, (members = new Map()));
    members.set(channel, this.#now() + this.#options.groupExpiryMs);
    this.localSockets.joined(group, channel);
    this.#startSweeping();
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    this.#checkOpen('groupDiscard');
    validateGroupName(group);
    validateChannelName(channel);
    const members = this.#groups.get(group);
    if (members === undefined) return;
    members.delete(channel);
    this.localSockets.left(group, channel);
    if (members.size === 0) this.#groups.delete(group);
  }

  async groupSend(group: string, message: ChannelMessage): Promise<GroupSendResult> {
    this.#checkOpen('groupSend');
    validateGroupName(group);
    const copy = validateMessage(message);
    const result: GroupSendResult = { delivered: 0, dropped: 0 };
    const members = this.#groups.get(group);
    if (members === undefined) return result;
    this.#pruneMembers(group, members);
    let first = true;
    for (const channel of members.keys()) {
      try {
        // Each member gets its own copy, so one receiver changing it cannot affect another.
        this.#deliver(channel, first ? copy : structuredClone(copy));
        first = false;
        result.delivered++;
      } catch (error) {
        if (!(error instanceof ChannelFull)) throw error;
        result.dropped++;
      }
    }
    return result;
  }

  async groupBroadcast(
    group: string,
    data: BroadcastData,
    options?: BroadcastOptions,
  ): Promise<BroadcastResult> {
    this.#checkOpen('groupBroadcast');
    validateGroupName(group);
    const members = this.#groups.get(group);
    if (members !== undefined) this.#pruneMembers(group, members);
    return this.localSockets.publish(group, validateBroadcastData(data), options);
  }

  async flush(): Promise<void> {
    this.#checkOpen('flush');
    for (const [channel, state] of this.#channels) {
      state.messages.length = 0;
      this.#dropIfIdle(channel, state);
    }
    this.#groups.clear();
    this.localSockets.leftAll();
    this.#stopSweeping();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const error = layerClosed('receive');
    for (const state of this.#channels.values())
      for (const waiter of state.waiters.splice(0)) waiter.reject(error);
    this.#channels.clear();
    this.#groups.clear();
    this.localSockets.leftAll();
    this.#stopSweeping();
  }

  /** Counts of what is held, after dropping what has expired. */
  stats(): InMemoryChannelLayerStats {
    this.#sweep();
    const stats: InMemoryChannelLayerStats = {
      channels: this.#channels.size,
      queuedMessages: 0,
      waitingReceivers: 0,
      groups: this.#groups.size,
      memberships: 0,
    };
    for (const state of this.#channels.values()) {
      stats.queuedMessages += state.messages.length;
      stats.waitingReceivers += state.waiters.length;
    }
    for (const members of this.#groups.values()) stats.memberships += members.size;
    return stats;
  }

  /** Hands `message` to the first waiting receiver, or queues it; throws ChannelFull at capacity. */
  #deliver(channel: string, message: ChannelMessage): void {
    let state = this.#channels.get(channel);
    const waiter = state?.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(message);
      this.#dropIfIdle(channel, state!);
      return;
    }
    if (state === undefined) this.#channels.set(channel, (state = { messages: [], waiters: [] }));
    this.#pruneMessages(state);
    if (state.messages.length >= this.#options.capacity) {
      this.#dropIfIdle(channel, state);
      throw new ChannelFull(channel, this.#options.capacity);
    }
    state.messages.push({ message, expiresAt: this.#now() + this.#options.expiryMs });
    this.#startSweeping();
  }

  #wait(channel: string, signal: AbortSignal | undefined): Promise<ChannelMessage> {
    let state = this.#channels.get(channel);
    if (state === undefined) this.#channels.set(channel, (state = { messages: [], waiters: [] }));
    const waiting = state;
    return new Promise<ChannelMessage>((resolve, reject) => {
      const waiter = abortableWaiter(signal, resolve, reject, (withdrawn) => {
        if (!removeWaiter(waiting.waiters, withdrawn)) return false;
        this.#dropIfIdle(channel, waiting);
        return true;
      });
      waiting.waiters.push(waiter);
    });
  }

  #pruneMessages(state: ChannelState): void {
    const now = this.#now();
    let expired = 0;
    while (expired < state.messages.length && state.messages[expired]!.expiresAt <= now) expired++;
    if (expired > 0) state.messages.splice(0, expired);
  }

  #pruneMembers(group: string, members: Map<string, number>): void {
    const now = this.#now();
    for (const [channel, lapsesAt] of members) {
      if (lapsesAt > now) continue;
      members.delete(channel);
      this.localSockets.left(group, channel);
    }
    if (members.size === 0) this.#groups.delete(group);
  }

  /** Forgets a channel with nothing queued and nobody waiting, so short-lived channels leave no trace. */
  #dropIfIdle(channel: string, state: ChannelState): void {
    if (state.messages.length === 0 && state.waiters.length === 0) this.#channels.delete(channel);
  }

  #sweep(): void {
    for (const [channel, state] of this.#channels) {
      this.#pruneMessages(state);
      this.#dropIfIdle(channel, state);
    }
    for (const [group, members] of this.#groups) this.#pruneMembers(group, members);
  }

  #startSweeping(): void {
    if (this.#sweepTimer !== undefined) return;
    const { expiryMs, groupExpiryMs } = this.#options;
    const interval = Math.max(
      MIN_SWEEP_INTERVAL_MS,
      Math.min(expiryMs, groupExpiryMs, MAX_SWEEP_INTERVAL_MS),
    );
    this.#sweepTimer = setInterval(() => {
      this.#sweep();
      if (this.#groups.size === 0 && [...this.#channels.values()].every((s) => s.messages.length === 0))
        this.#stopSweeping();
    }, interval);
    this.#sweepTimer.unref();
  }

  #stopSweeping(): void {
    if (this.#sweepTimer === undefined) return;
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw layerClosed(operation);
  }
}
