// RedisChannelLayer: the channel layer for several processes or machines, over one Redis server.
// Point-to-point channels are Redis lists (capacity and expiry enforced by Lua scripts, atomically);
// groups are sorted sets of members scored by join time; groupSend queues in Redis for ordinary
// members and reaches process-specific members (consumers) through one pub/sub topic per group,
// which each process with local members subscribes to once and fans out locally. Two connections
// per layer whatever the load: commands, and pub/sub. See docs/channels.md (RedisChannelLayer).
import { randomBytes } from 'node:crypto';
import { ChannelFull, ChannelLayerRangeError, ChannelLayerTypeError, layerClosed } from '../errors.ts';
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
import {
  RedisConnection,
  resolveConnectionOptions,
  type RedisConnectionOptions,
} from './redis-connection.ts';
import { LocalGroups } from './redis-groups.ts';
import { RedisKeys, decodeEntry, encodeEntry, withScripts, type LayerScripts } from './redis-keys.ts';
import { GroupPayloadKind, LAYER_ID_LENGTH, TopicSubscriptions, encodeGroupPayload } from './redis-pubsub.ts';
import { ChannelReaders } from './redis-receivers.ts';

export interface RedisChannelLayerOptions extends ChannelLayerOptions, RedisConnectionOptions {
  /** The start of every key and topic, so several applications can share a server. Default 'asgi'. */
  prefix?: string;
  /** The largest message, in bytes of JSON (or of groupBroadcast data). Default 1 MiB. */
  maxMessageBytes?: number;
}

export interface RedisChannelLayerStats {
  /** True while both connections are ready. */
  available: boolean;
  /** Times the command connection came back after Redis was lost. */
  reconnects: number;
  /** Times the pub/sub connection came back (and re-subscribed) after Redis was lost. */
  pubsubReconnects: number;
  /** Channels with receivers waiting or messages buffered in this process. */
  channels: number;
  waitingReceivers: number;
  bufferedMessages: number;
  /** Group messages for local members dropped because the member's local buffer was full. */
  droppedLocally: number;
  /** Groups and memberships added by this process. */
  groups: number;
  memberships: number;
  /** Pub/sub topics subscribed (groups with local members, wake topics, the control topic). */
  subscriptions: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
const MAX_SWEEP_INTERVAL_MS = 60_000;
const MIN_SWEEP_INTERVAL_MS = 1_000;
const SCAN_BATCH = 500;

interface ControlNotice {
  from: string;
  op: 'flush' | 'discard';
  group?: string;
  channel?: string;
}

export class RedisChannelLayer implements ChannelLayer {
  readonly extensions: readonly string[] = Object.freeze(['groups', 'flush']);
  readonly localSockets = new LocalGroupSockets();
  readonly #options: ResolvedLayerOptions;
  readonly #maxMessageBytes: number;
  readonly #warn: (message: string) => void;
  /** Names this layer in its channels and payloads: 12 random bytes are LAYER_ID_LENGTH (16) base64url characters. */
  readonly #id = randomBytes((LAYER_ID_LENGTH / 4) * 3).toString('base64url');
  readonly #keys: RedisKeys;
  readonly #commands: RedisConnection;
  readonly #scripts: LayerScripts;
  readonly #subscriber: RedisConnection;
  readonly #subscriptions: TopicSubscriptions;
  readonly #readers: ChannelReaders;
  readonly #groups: LocalGroups;
  readonly #sweepTimer: NodeJS.Timeout;
  #closed = false;

  constructor(options: RedisChannelLayerOptions = {}) {
    this.#options = resolveLayerOptions(options);
    const connection = resolveConnectionOptions(options);
    this.#warn = (message) => connection.logger.warn(message);
    const prefix = options.prefix ?? 'asgi';
    if (typeof prefix !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(prefix))
      throw new ChannelLayerTypeError(
        `prefix must be 1 to 64 ASCII letters, digits, '.', '_' or '-', got ${String(prefix)}`,
        'ERR_CHANNEL_INVALID_OPTION',
      );
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 64 || maxMessageBytes > 512 * 1024 * 1024)
      throw new ChannelLayerRangeError(
        `maxMessageBytes must be an integer from 64 to 536870912, got ${String(maxMessageBytes)}`,
        'ERR_CHANNEL_INVALID_OPTION',
      );
    this.#maxMessageBytes = maxMessageBytes;
    this.#keys = new RedisKeys(prefix);
    this.#commands = new RedisConnection(connection, 'command');
    this.#scripts = withScripts(this.#commands.client);
    this.#subscriber = new RedisConnection(connection, 'pub/sub');
    this.#subscriptions = new TopicSubscriptions(this.#subscriber, (topic, payload) =>
      this.#onTopicMessage(topic, payload),
    );
    this.#readers = new ChannelReaders({
      pop: (channel) => this.#pop(channel),
      whenReady: () => this.#commands.whenReady(),
      wakeTopic: (channel) => this.#keys.wake(channel),
      subscriptions: this.#subscriptions,
      capacity: this.#options.capacity,
      reportError: this.#warn,
    });
    this.#groups = new LocalGroups({
      layerId: this.#id,
      topicOf: (group) => this.#keys.groupTopic(group),
      subscriptions: this.#subscriptions,
      readers: this.#readers,
      sockets: this.localSockets,
      warn: this.#warn,
    });
    void this.#subscriptions.acquire(this.#keys.control);
    // Every (re)connection of the pub/sub side starts with no subscriptions and may have missed
    // wakes: subscribe again, then let every waiting receiver look at its list.
    this.#subscriber.onReady = () =>
      void this.#subscriptions.resubscribe().then(() => this.#readers.wakeAll());
    this.#commands.onReady = (reconnected) => {
      if (reconnected) this.#readers.wakeAll();
    };
    const { expiryMs, groupExpiryMs } = this.#options;
    const interval = Math.max(
      MIN_SWEEP_INTERVAL_MS,
      Math.min(expiryMs, groupExpiryMs, MAX_SWEEP_INTERVAL_MS),
    );
    this.#sweepTimer = setInterval(() => {
      this.#readers.sweep();
      this.#groups.prune();
    }, interval);
    this.#sweepTimer.unref();
  }

  get closed(): boolean {
    return this.#closed;
  }

  async send(channel: string, message: ChannelMessage): Promise<void> {
    this.#checkOpen('send');
    validateChannelName(channel);
    const json = this.#serialise(validateMessage(message));
    const now = Date.now();
    const entry = encodeEntry(now + this.#options.expiryMs, json);
    const queued = await this.#commands.call('send', () =>
      this.#scripts.channelSend(
        this.#keys.channel(channel),
        now,
        this.#options.capacity,
        entry,
        this.#options.expiryMs,
        this.#keys.wake(channel),
        channel,
      ),
    );
    if (queued !== 1) throw new ChannelFull(channel, this.#options.capacity);
    this.#readers.wake(channel);
  }

  async receive(channel: string, options: ReceiveOptions = {}): Promise<ChannelMessage> {
    this.#checkOpen('receive');
    validateChannelName(channel);
    options.signal?.throwIfAborted();
    return this.#readers.receive(channel, options.signal);
  }

  async newChannel(prefix = 'specific.'): Promise<string> {
    this.#checkOpen('newChannel');
    if (typeof prefix !== 'string') validateChannelName(prefix);
    // The part before '!' names this layer, so the channels of one process share one wake topic.
    return validateChannelName(`${prefix}${this.#id}!${randomBytes(9).toString('base64url')}`);
  }

  async groupAdd(group: string, channel: string): Promise<void> {
    this.#checkOpen('groupAdd');
    validateGroupName(group);
    validateChannelName(channel);
    const now = Date.now();
    const key = this.#keys.group(group);
    await this.#commands.call('groupAdd', (client) =>
      client.multi().zadd(key, now, channel).pexpire(key, this.#options.groupExpiryMs).exec(),
    );
    await this.#groups.add(group, channel, now + this.#options.groupExpiryMs);
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    this.#checkOpen('groupDiscard');
    validateGroupName(group);
    validateChannelName(channel);
    const key = this.#keys.group(group);
    await this.#commands.call('groupDiscard', (client) => {
      const steps = client.multi().zrem(key, channel);
      // A process-specific member may have been added by another process, which delivers to it.
      if (channel.includes('!')) steps.publish(this.#keys.control, this.#notice('discard', group, channel));
      return steps.exec();
    });
    this.#groups.discard(group, channel);
  }

  async groupSend(group: string, message: ChannelMessage): Promise<GroupSendResult> {
    this.#checkOpen('groupSend');
    validateGroupName(group);
    const copy = validateMessage(message);
    const json = this.#serialise(copy);
    const now = Date.now();
    const deadline = now + this.#options.expiryMs;
    const entry = encodeEntry(deadline, json);
    const [delivered, dropped] = await this.#commands.call('groupSend', () =>
      this.#scripts.channelGroupSend(
        this.#keys.group(group),
        now,
        now - this.#options.groupExpiryMs,
        this.#options.capacity,
        entry,
        this.#options.expiryMs,
        this.#keys.channelKeyPrefix,
        this.#keys.wakePrefix,
        this.#keys.groupTopic(group),
        encodeGroupPayload(GroupPayloadKind.Message, this.#id, entry),
      ),
    );
    // This process's own members get it now; its copy coming back on the topic is skipped.
    const local = this.#groups.deliver(group, copy, deadline);
    return { delivered: delivered + local.delivered, dropped: dropped + local.dropped };
  }

  async groupBroadcast(
    group: string,
    data: BroadcastData,
    options: BroadcastOptions = {},
  ): Promise<BroadcastResult> {
    this.#checkOpen('groupBroadcast');
    validateGroupName(group);
    validateBroadcastData(data);
    const bytes =
      typeof data === 'string'
        ? Buffer.from(data)
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength > this.#maxMessageBytes)
      throw tooLarge('groupBroadcast data', bytes.byteLength, this.#maxMessageBytes);
    const binary = options.binary ?? typeof data !== 'string';
    this.#groups.prune(group);
    const result = this.localSockets.publish(group, data, { binary });
    const payload = encodeGroupPayload(
      binary ? GroupPayloadKind.Binary : GroupPayloadKind.Text,
      this.#id,
      bytes,
    );
    await this.#commands.call('groupBroadcast', (client) =>
      client.publish(this.#keys.groupTopic(group), payload),
    );
    return result;
  }

  async flush(): Promise<void> {
    this.#checkOpen('flush');
    let cursor = '0';
    do {
      const [next, keys] = await this.#commands.call('flush', (client) =>
        client.scan(cursor, 'MATCH', this.#keys.everyKey, 'COUNT', SCAN_BATCH),
      );
      if (keys.length > 0) await this.#commands.call('flush', (client) => client.unlink(...keys));
      cursor = next;
    } while (cursor !== '0');
    await this.#commands.call('flush', (client) => client.publish(this.#keys.control, this.#notice('flush')));
    this.#readers.clearBuffers();
    this.#groups.clear();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    this.#readers.close(layerClosed('receive'));
    this.#groups.clear();
    await Promise.all([this.#commands.close(), this.#subscriber.close()]);
  }

  stats(): RedisChannelLayerStats {
    return {
      available: this.#commands.ready && this.#subscriber.ready,
      reconnects: this.#commands.reconnects,
      pubsubReconnects: this.#subscriber.reconnects,
      ...this.#readers.stats(),
      droppedLocally: this.#readers.droppedLocally,
      groups: this.#groups.groups,
      memberships: this.#groups.memberships,
      subscriptions: this.#subscriptions.count,
    };
  }

  async #pop(channel: string): Promise<{ message: ChannelMessage; deadline: number } | null> {
    for (;;) {
      const entry = await this.#commands.call('receive', () =>
        this.#scripts.channelPop(this.#keys.channel(channel), Date.now()),
      );
      if (entry === null) return null;
      const { deadline, json } = decodeEntry(entry);
      try {
        return { message: JSON.parse(json) as ChannelMessage, deadline };
      } catch {
        this.#warn(`channel layer: dropped an entry of channel ${channel} that is not JSON`);
      }
    }
  }

  #onTopicMessage(topic: string, payload: Buffer): void {
    if (this.#closed) return;
    if (topic.startsWith(this.#keys.groupTopicPrefix)) {
      this.#groups.onPayload(topic.slice(this.#keys.groupTopicPrefix.length), payload);
    } else if (topic.startsWith(this.#keys.wakePrefix)) {
      const name = topic.slice(this.#keys.wakePrefix.length);
      if (name.endsWith('!')) this.#readers.wake(payload.toString());
      else this.#readers.wake(name);
    } else if (topic === this.#keys.control) {
      this.#onControl(payload.toString());
    }
  }

  #onControl(text: string): void {
    let notice: ControlNotice;
    try {
      notice = JSON.parse(text) as ControlNotice;
    } catch {
      return;
    }
    if (notice.from === this.#id) return;
    if (notice.op === 'flush') {
      this.#readers.clearBuffers();
      this.#groups.clear();
    } else if (notice.op === 'discard' && notice.group !== undefined && notice.channel !== undefined) {
      this.#groups.discard(notice.group, notice.channel);
    }
  }

  #notice(op: ControlNotice['op'], group?: string, channel?: string): string {
    return JSON.stringify({ from: this.#id, op, group, channel });
  }

  #serialise(message: ChannelMessage): string {
    const json = JSON.stringify(message);
    const size = Buffer.byteLength(json);
    if (size > this.#maxMessageBytes) throw tooLarge('message', size, this.#maxMessageBytes);
    return json;
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw layerClosed(operation);
  }
}

function tooLarge(what: string, size: number, limit: number): ChannelLayerRangeError {
  return new ChannelLayerRangeError(
    `${what} is ${size} bytes, over this Redis channel layer's maxMessageBytes (${limit})`,
    'ERR_CHANNEL_MESSAGE_TOO_LARGE',
  );
}
