// The bridge between a channel layer's groups and the WebSockets of this process, for
// `groupBroadcast`: one message to every member socket through the native publish, with no consumer
// code and no JavaScript per member.
//
// A consumer binds its channel to its socket when it accepts. From then on every group the layer
// says the channel joined is also a topic the socket subscribes to (and leaves when the channel
// leaves the group, its membership lapses, or the layer is flushed). `serve()` registers each of its
// servers as a broadcast target: topics are per server, so a broadcast publishes on each of them.
// Layers call `joined`/`left` from their own group bookkeeping, so user code that calls
// `layer.groupAdd(group, this.channelName)` directly (the Channels tutorial's way) gets the same.
import type { PublishOptions, PublishResult } from '../../websocket/topics.ts';

/** What the bridge needs of a socket: WebSocket's subscribe/unsubscribe. */
export interface GroupSocket {
  subscribe(topic: string): boolean;
  unsubscribe(topic: string): boolean;
}

/** What the bridge needs of a server: WebSocketServer's publish. */
export interface BroadcastTarget {
  publish(topic: string, data: string | Buffer, options?: PublishOptions): PublishResult;
}

export type BroadcastData = string | Buffer | Uint8Array;

export interface BroadcastOptions {
  /** Send a binary message; default: binary unless `data` is a string. */
  binary?: boolean;
}

/** The topic that stands for a group on every server (a prefix keeps it apart from user topics). */
export function topicOfGroup(group: string): string {
  return `channels.group:${group}`;
}

export class LocalGroupSockets {
  readonly #sockets = new Map<string, GroupSocket>();
  /** bound channel → the groups it is in (only bound channels are tracked). */
  readonly #groupsOfChannel = new Map<string, Set<string>>();
  /** group → how many bound channels are in it, for layers that subscribe per group (Redis). */
  readonly #localMembers = new Map<string, number>();
  readonly #targets = new Set<BroadcastTarget>();
  /** Called when a group gains its first or loses its last local socket. */
  onLocalGroupChange: ((group: string, hasLocalMembers: boolean) => void) | undefined;

  /** Ties `channel` to `socket`; the groups the channel joins from now on become its topics. */
  bind(channel: string, socket: GroupSocket, groups: Iterable<string> = []): void {
    this.unbind(channel);
    this.#sockets.set(channel, socket);
    this.#groupsOfChannel.set(channel, new Set());
    for (const group of groups) this.joined(group, channel);
  }

  /** Unties `channel`; its socket leaves every group topic. */
  unbind(channel: string): void {
    const groups = this.#groupsOfChannel.get(channel);
    if (groups === undefined) return;
    for (const group of [...groups]) this.left(group, channel);
    this.#groupsOfChannel.delete(channel);
    this.#sockets.delete(channel);
  }

  /** The layer added `channel` to `group`. */
  joined(group: string, channel: string): void {
    const groups = this.#groupsOfChannel.get(channel);
    if (groups === undefined || groups.has(group)) return;
    groups.add(group);
    this.#sockets.get(channel)!.subscribe(topicOfGroup(group));
    const count = (this.#localMembers.get(group) ?? 0) + 1;
    this.#localMembers.set(group, count);
    if (count === 1) this.onLocalGroupChange?.(group, true);
  }

  /** The layer removed `channel` from `group` (discarded, lapsed or flushed). */
  left(group: string, channel: string): void {
    const groups = this.#groupsOfChannel.get(channel);
    if (groups === undefined || !groups.delete(group)) return;
    this.#sockets.get(channel)!.unsubscribe(topicOfGroup(group));
    const count = this.#localMembers.get(group)! - 1;
    if (count > 0) {
      this.#localMembers.set(group, count);
      return;
    }
    this.#localMembers.delete(group);
    this.onLocalGroupChange?.(group, false);
  }

  /** The layer dropped every group (flush, close). */
  leftAll(): void {
    for (const [channel, groups] of this.#groupsOfChannel)
      for (const group of [...groups]) this.left(group, channel);
  }

  hasLocalMembers(group: string): boolean {
    return this.#localMembers.has(group);
  }

  /** Groups with at least one socket of this process in them. */
  localGroups(): string[] {
    return [...this.#localMembers.keys()];
  }

  get boundChannels(): number {
    return this.#sockets.size;
  }

  /** Registers a server whose sockets a broadcast reaches; returns the function that removes it. */
  addTarget(target: BroadcastTarget): () => void {
    this.#targets.add(target);
    return () => void this.#targets.delete(target);
  }

  /** Publishes `data` to the group's topic on every target: what this process delivered. */
  publish(group: string, data: BroadcastData, options: BroadcastOptions = {}): PublishResult {
    const result: PublishResult = { delivered: 0, skipped: 0 };
    if (!this.#localMembers.has(group)) return result;
    const topic = topicOfGroup(group);
    const bytes =
      typeof data === 'string' || Buffer.isBuffer(data)
        ? data
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const binary = options.binary ?? typeof data !== 'string';
    for (const target of this.#targets) {
      const { delivered, skipped } = target.publish(topic, bytes, { binary });
      result.delivered += delivered;
      result.skipped += skipped;
    }
    return result;
  }
}
