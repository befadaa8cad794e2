// The groups as this process sees them in the Redis layer: the memberships it added itself, and
// the one group-topic subscription per group it keeps while it has a reason to.
//
// Redis holds every membership (a sorted set per group), but a groupSend only queues in Redis for
// ordinary members (names without '!'). A process-specific member (`specific.<layer>!<id>`, what
// consumers use) is received by the process that added it, so that process delivers to it: it
// subscribes to the group topic while it has such members, or sockets in the group
// (`localSockets`, for groupBroadcast), and fans each payload out locally. One PUBLISH therefore
// reaches any number of members per process, and a process with no member of the group never
// hears of it.
import type { ChannelMessage } from './channel-layer.ts';
import type { LocalGroupSockets } from './group-sockets.ts';
import type { ChannelReaders } from './redis-receivers.ts';
import { type TopicSubscriptions, GroupPayloadKind, decodeGroupPayload } from './redis-pubsub.ts';
import { decodeEntry } from './redis-keys.ts';

export interface LocalGroupsDeps {
  layerId: string;
  topicOf(group: string): string;
  subscriptions: TopicSubscriptions;
  readers: ChannelReaders;
  sockets: LocalGroupSockets;
  warn(message: string): void;
}

export class LocalGroups {
  readonly #deps: LocalGroupsDeps;
  /** group → (channel added by this process → when its membership lapses); Map order is join order. */
  readonly #groups = new Map<string, Map<string, number>>();
  /** group → how many of its members here are process-specific (delivered by this process). */
  readonly #specificMembers = new Map<string, number>();
  /** Groups whose topic this process is subscribed to. */
  readonly #subscribed = new Set<string>();

  constructor(deps: LocalGroupsDeps) {
    this.#deps = deps;
    deps.sockets.onLocalGroupChange = (group) => void this.#sync(group);
  }

  get groups(): number {
    return this.#groups.size;
  }

  get memberships(): number {
    let count = 0;
    for (const members of this.#groups.values()) count += members.size;
    return count;
  }

  get subscribedGroups(): number {
    return this.#subscribed.size;
  }

  /** `channel` joined `group` here; resolves once the group topic is subscribed if it must be. */
  async add(group: string, channel: string, lapsesAt: number): Promise<void> {
    let members = this.#groups.get(group);
    if (members === undefined) this.#groups.set(group, (members = new Map()));
    // A renewed membership moves to the end, as in Redis' sorted set.
    if (!members.delete(channel) && channel.includes('!')) this.#count(group, +1);
    members.set(channel, lapsesAt);
    this.#deps.sockets.joined(group, channel);
    await this.#sync(group);
  }

  discard(group: string, channel: string): void {
    const members = this.#groups.get(group);
    if (members === undefined || !members.delete(channel)) return;
    if (members.size === 0) this.#groups.delete(group);
    if (channel.includes('!')) this.#count(group, -1);
    this.#deps.sockets.left(group, channel);
    void this.#sync(group);
  }

  /** Drops lapsed memberships of `group` (or of every group). */
  prune(group?: string): void {
    const now = Date.now();
    for (const name of group === undefined ? [...this.#groups.keys()] : [group]) {
      const members = this.#groups.get(name);
      if (members === undefined) continue;
      // Join order is lapse order (a renewal moves the member to the end), so this stops at the
      // first live member: a broadcast to a large group does not walk it.
      for (const [channel, lapsesAt] of members) {
        if (lapsesAt > now) break;
        this.discard(name, channel);
      }
    }
  }

  /** Delivers a groupSend to this process's process-specific members of `group`. */
  deliver(group: string, message: ChannelMessage, deadline: number): { delivered: number; dropped: number } {
    const result = { delivered: 0, dropped: 0 };
    this.prune(group);
    const members = this.#groups.get(group);
    if (members === undefined) return result;
    let first = true;
    for (const channel of members.keys()) {
      if (!channel.includes('!')) continue; // queued in Redis by the sender
      // Each member gets its own copy, so one receiver changing it cannot affect another.
      const copy = first ? message : structuredClone(message);
      first = false;
      if (this.#deps.readers.deliverLocal(channel, copy, deadline)) result.delivered++;
      else result.dropped++;
    }
    return result;
  }

  /** A payload on the topic of `group`, from any process (our own copies are skipped). */
  onPayload(group: string, payload: Buffer): void {
    const decoded = decodeGroupPayload(payload);
    if (decoded === undefined) {
      this.#deps.warn(`channel layer: ignored a malformed payload on the topic of group ${group}`);
      return;
    }
    if (decoded.sender === this.#deps.layerId) return; // delivered at once when it was sent
    if (decoded.kind !== GroupPayloadKind.Message) {
      this.prune(group);
      this.#deps.sockets.publish(group, decoded.body, { binary: decoded.kind === GroupPayloadKind.Binary });
      return;
    }
    const { deadline, json } = decodeEntry(decoded.body.toString());
    if (!(deadline > Date.now())) return;
    let message: ChannelMessage;
    try {
      message = JSON.parse(json) as ChannelMessage;
    } catch {
      this.#deps.warn(`channel layer: ignored a group message that is not JSON on group ${group}`);
      return;
    }
    this.deliver(group, message, deadline);
  }

  /** Forgets every membership (flush, close); the sockets leave their topics. */
  clear(): void {
    this.#groups.clear();
    this.#specificMembers.clear();
    this.#deps.sockets.leftAll();
    for (const group of [...this.#subscribed]) void this.#sync(group);
  }

  #count(group: string, change: number): void {
    const count = (this.#specificMembers.get(group) ?? 0) + change;
    if (count > 0) this.#specificMembers.set(group, count);
    else this.#specificMembers.delete(group);
  }

  /** Subscribes to the group's topic while this process has a reason to, and only then. */
  async #sync(group: string): Promise<void> {
    const wanted = this.#deps.sockets.hasLocalMembers(group) || this.#specificMembers.has(group);
    const topic = this.#deps.topicOf(group);
    if (wanted && !this.#subscribed.has(group)) {
      this.#subscribed.add(group);
      await this.#deps.subscriptions.acquire(topic);
    } else if (!wanted && this.#subscribed.delete(group)) {
      this.#deps.subscriptions.release(topic);
    } else if (wanted) {
      await this.#deps.subscriptions.settled(topic);
    }
  }
}
