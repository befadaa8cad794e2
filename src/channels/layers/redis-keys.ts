// What the Redis layer stores and publishes, by name, and the Lua scripts that keep each step atomic.
//
// Keys (all under `<prefix>:`, so flush can find them with SCAN):
//   <prefix>:ch:<channel>   a list of queued messages, each `<deadline ms> <json>`, oldest first;
//                           the key expires with its newest message.
//   <prefix>:group:<group>  a sorted set of member channels, scored by when they (last) joined.
// Pub/sub topics (not keys):
//   <prefix>:wake:<channel>       "something was queued on <channel>" (ordinary channels);
//   <prefix>:wake:<name up to !>  the same for every process-specific channel of one process;
//   <prefix>:groupmsg:<group>     groupSend/groupBroadcast payloads for processes with local members;
//   <prefix>:control              flush and discard notices every layer of the prefix listens to.
// Deadlines are milliseconds of the sender's clock; processes on several machines need synchronised
// clocks (NTP) for expiry to mean the same everywhere.
import type { Redis } from 'ioredis';

export class RedisKeys {
  readonly #prefix: string;
  constructor(prefix: string) {
    this.#prefix = prefix;
  }
  channel(channel: string): string {
    return `${this.#prefix}:ch:${channel}`;
  }
  get channelKeyPrefix(): string {
    return `${this.#prefix}:ch:`;
  }
  group(group: string): string {
    return `${this.#prefix}:group:${group}`;
  }
  /** The wake topic of `channel`: one per process for process-specific channels, else per channel. */
  wake(channel: string): string {
    const bang = channel.indexOf('!');
    return `${this.#prefix}:wake:${bang === -1 ? channel : channel.slice(0, bang + 1)}`;
  }
  get wakePrefix(): string {
    return `${this.#prefix}:wake:`;
  }
  groupTopic(group: string): string {
    return `${this.#prefix}:groupmsg:${group}`;
  }
  get groupTopicPrefix(): string {
    return `${this.#prefix}:groupmsg:`;
  }
  get control(): string {
    return `${this.#prefix}:control`;
  }
  /** The SCAN pattern of every key of the prefix (the prefix holds no glob characters). */
  get everyKey(): string {
    return `${this.#prefix}:*`;
  }
}

/** A queued entry: the deadline, a space, the message's JSON. */
export function encodeEntry(deadline: number, json: string): string {
  return `${deadline} ${json}`;
}

export function decodeEntry(entry: string): { deadline: number; json: string } {
  const space = entry.indexOf(' ');
  return { deadline: Number(entry.slice(0, space)), json: entry.slice(space + 1) };
}

// Drops the expired messages at the head of a list (deadlines only grow along a list written with
// one expiry, so the head is where they are). Shared by the scripts below.
const PRUNE_HEAD = `
local function prune(key, now)
  while true do
    local head = redis.call('LINDEX', key, 0)
    if not head then return end
    local deadline = tonumber(string.sub(head, 1, string.find(head, ' ', 1, true) - 1))
    if deadline > now then return end
    redis.call('LPOP', key)
  end
end
local function push(key, now, capacity, entry, expiryMs, wakeTopic, channel)
  prune(key, now)
  if redis.call('LLEN', key) >= capacity then return 0 end
  redis.call('RPUSH', key, entry)
  redis.call('PEXPIRE', key, expiryMs)
  redis.call('PUBLISH', wakeTopic, channel)
  return 1
end
`;

/** KEYS: list. ARGV: now, capacity, entry, expiryMs, wakeTopic, channel. 1 = queued, 0 = full. */
const SEND = `${PRUNE_HEAD}
return push(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6])`;

/** KEYS: list. ARGV: now. The oldest live entry, removed; nil when there is none. */
const POP = `
local now = tonumber(ARGV[1])
while true do
  local entry = redis.call('LPOP', KEYS[1])
  if not entry then return false end
  local deadline = tonumber(string.sub(entry, 1, string.find(entry, ' ', 1, true) - 1))
  if deadline > now then return entry end
end`;

/**
 * KEYS: group set. ARGV: now, lapsedBefore, capacity, entry, expiryMs, channelKeyPrefix, wakePrefix,
 * groupTopic, payload. Drops lapsed memberships, queues the entry on every ordinary member (those
 * without '!'; process-specific members are reached through the group topic by the process that
 * added them), then publishes the payload on the group topic. Returns {delivered, dropped}.
 */
const GROUP_SEND = `${PRUNE_HEAD}
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local delivered, dropped = 0, 0
for _, channel in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if not string.find(channel, '!', 1, true) then
    local pushed = push(ARGV[6] .. channel, now, tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[7] .. channel, channel)
    if pushed == 1 then delivered = delivered + 1 else dropped = dropped + 1 end
  end
end
redis.call('PUBLISH', ARGV[8], ARGV[9])
return {delivered, dropped}`;

export interface LayerScripts {
  channelSend(
    key: string,
    now: number,
    capacity: number,
    entry: string,
    expiryMs: number,
    wakeTopic: string,
    channel: string,
  ): Promise<number>;
  channelPop(key: string, now: number): Promise<string | null>;
  channelGroupSend(
    key: string,
    now: number,
    lapsedBefore: number,
    capacity: number,
    entry: string,
    expiryMs: number,
    channelKeyPrefix: string,
    wakePrefix: string,
    groupTopic: string,
    payload: Buffer,
  ): Promise<[number, number]>;
}

/** Registers the scripts on `client` (ioredis loads them with EVALSHA, falling back to EVAL). */
export function withScripts(client: Redis): Redis & LayerScripts {
  client.defineCommand('channelSend', { numberOfKeys: 1, lua: SEND });
  client.defineCommand('channelPop', { numberOfKeys: 1, lua: POP });
  client.defineCommand('channelGroupSend', { numberOfKeys: 1, lua: GROUP_SEND });
  return client as Redis & LayerScripts;
}
