// Chat rooms shared by every worker through Redis (keys under `prefix`, 'bufferevent:chat:'):
// - history: a list per room (`history:<room>`) capped at `historySize` by LTRIM, expiring after a
//   week without messages, with ids from one counter (`ids`) so they are unique across workers;
// - presence: a sorted set per room (`presence:<room>`) whose members are "<process> <user>" with
//   an expiry time as score. A process adds its entry when a user's first connection to the room
//   lands on it, removes it when the last one leaves, and re-adds every entry it holds at each
//   heartbeat (`heartbeatMs`, a third of `presenceTtlMs`). A worker that dies stops refreshing, so
//   its users drop out of every read within `presenceTtlMs`; the next heartbeat of a live worker in
//   the room deletes the stale entries and reports the room through `onPresenceChange`, so the
//   room's clients on every worker are told (the server broadcasts it to the room's group);
// - active rooms: a sorted set (`rooms`) of rooms with an entry, scored the same way, for the lobby.
// Joins and leaves made by the consumers are broadcast by them to the room's group (through the
// Redis layer, so to every worker) after the shared set was updated.
import { randomBytes } from 'node:crypto';
import {
  RedisConnection,
  resolveConnectionOptions,
  type RedisConnectionOptions,
  type RedisLayerLogger,
} from '../../channels/layers/redis-connection.ts';
import type { ChatMessage, ChatRooms } from './chat-rooms.ts';

export interface RedisChatRoomsOptions extends RedisConnectionOptions {
  /** Messages kept per room. */
  readonly historySize: number;
  /** Default 'bufferevent:chat:'. */
  readonly prefix?: string;
  /** How long a process's presence entries outlive its last heartbeat. Default 30 s. */
  readonly presenceTtlMs?: number;
  /** A room lost members of a process that stopped refreshing them (it died). */
  readonly onPresenceChange?: (room: string, users: string[]) => void;
}

/** Rooms listed in the lobby at most. */
const MAX_ACTIVE_ROOMS = 1000;
const HISTORY_TTL_MS = 7 * 24 * 3600 * 1000;

// KEYS: ids, history; ARGV: the message's JSON after its id ('"user":…}'), historySize, ttlMs.
const POST = `
local id = redis.call('INCR', KEYS[1])
local size = tonumber(ARGV[2])
if size > 0 then
  redis.call('RPUSH', KEYS[2], '{"id":' .. id .. ',' .. ARGV[1])
  redis.call('LTRIM', KEYS[2], -size, -1)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return id
`;

export class RedisChatRooms implements ChatRooms {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #historySize: number;
  readonly #ttlMs: number;
  readonly #logger: RedisLayerLogger;
  readonly #onPresenceChange: ((room: string, users: string[]) => void) | undefined;
  /** This process's share of the presence: room → user → its connections here. */
  readonly #local = new Map<string, Map<string, number>>();
  readonly #process = `${process.pid}.${randomBytes(6).toString('hex')}`;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(options: RedisChatRoomsOptions) {
    const resolved = resolveConnectionOptions(options);
    this.#connection = new RedisConnection(resolved, 'chat rooms');
    this.#logger = resolved.logger;
    this.#prefix = options.prefix ?? 'bufferevent:chat:';
    this.#historySize = options.historySize;
    this.#ttlMs = options.presenceTtlMs ?? 30_000;
    this.#onPresenceChange = options.onPresenceChange;
    this.#heartbeat = setInterval(() => void this.#refresh(), Math.max(10, Math.floor(this.#ttlMs / 3)));
    this.#heartbeat.unref();
  }

  async join(room: string, user: string): Promise<ChatMessage[]> {
    const users = this.#local.get(room) ?? new Map<string, number>();
    this.#local.set(room, users);
    const count = (users.get(user) ?? 0) + 1;
    users.set(user, count);
    const expiry = Date.now() + this.#ttlMs;
    let replies;
    try {
      replies = await this.#connection.call('chat join', (client) => {
        const batch = client.multi();
        if (count === 1) {
          batch.zadd(this.#key('presence', room), expiry, this.#entry(user));
          batch.pexpire(this.#key('presence', room), this.#ttlMs * 2);
          batch.zadd(`${this.#prefix}rooms`, expiry, room);
        }
        batch.lrange(this.#key('history', room), 0, -1);
        return batch.exec();
      });
    } catch (error) {
      // Not joined: the heartbeat must not announce this connection (an entry written before the
      // failure expires by itself).
      this.#forgetLocal(room, user);
      throw error;
    }
    const history = (replies?.at(-1)?.[1] ?? []) as string[];
    return history.flatMap((json) => {
      try {
        return [JSON.parse(json) as ChatMessage];
      } catch {
        return []; // not ours
      }
    });
  }

  async leave(room: string, user: string): Promise<void> {
    if (this.#forgetLocal(room, user) > 0) return;
    await this.#connection.call('chat leave', (client) =>
      client.zrem(this.#key('presence', room), this.#entry(user)),
    );
  }

  async members(room: string): Promise<string[]> {
    const entries = await this.#connection.call('chat members', (client) =>
      client.zrangebyscore(this.#key('presence', room), Date.now(), '+inf'),
    );
    return usersOf(entries);
  }

  async post(room: string, user: string, text: string): Promise<ChatMessage> {
    const at = Date.now();
    const tail = JSON.stringify({ user, text, at }).slice(1);
    const id = await this.#connection.call('chat post', (client) =>
      client.eval(
        POST,
        2,
        `${this.#prefix}ids`,
        this.#key('history', room),
        tail,
        String(this.#historySize),
        String(HISTORY_TTL_MS),
      ),
    );
    return { id: Number(id), user, text, at };
  }

  async activeRooms(): Promise<{ room: string; members: number }[]> {
    const now = Date.now();
    const rooms = await this.#connection.call('chat rooms', async (client) => {
      await client.zremrangebyscore(`${this.#prefix}rooms`, '-inf', now);
      return client.zrangebyscore(`${this.#prefix}rooms`, now, '+inf', 'LIMIT', 0, MAX_ACTIVE_ROOMS);
    });
    if (rooms.length === 0) return [];
    const replies = await this.#connection.call('chat rooms', (client) => {
      const batch = client.pipeline();
      for (const room of rooms) batch.zrangebyscore(this.#key('presence', room), now, '+inf');
      return batch.exec();
    });
    return rooms
      .map((room, i) => ({ room, members: usersOf((replies?.[i]?.[1] ?? []) as string[]).length }))
      .filter((entry) => entry.members > 0)
      .sort((a, b) => b.members - a.members || a.room.localeCompare(b.room));
  }

  get roomCount(): number {
    return this.#local.size;
  }

  /** Stops the heartbeat, takes this process's users out of every room and closes the connection. */
  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    const rooms = [...this.#local];
    this.#local.clear();
    if (rooms.length > 0) {
      await this.#connection
        .call('chat close', (client) => {
          const batch = client.pipeline();
          for (const [room, users] of rooms)
            batch.zrem(this.#key('presence', room), ...[...users.keys()].map((user) => this.#entry(user)));
          return batch.exec();
        })
        .catch(() => {}); // Redis unreachable: the entries expire by themselves
    }
    await this.#connection.close();
  }

  /** Takes one connection of `user` out of this process's share; returns the connections left. */
  #forgetLocal(room: string, user: string): number {
    const users = this.#local.get(room);
    const count = users?.get(user);
    if (users === undefined || count === undefined) return 0;
    if (count > 1) {
      users.set(user, count - 1);
      return count - 1;
    }
    users.delete(user);
    if (users.size === 0) this.#local.delete(room);
    return 0;
  }

  /** The heartbeat: extends this process's entries and deletes the ones nobody refreshed. */
  async #refresh(): Promise<void> {
    if (this.#local.size === 0) return;
    const now = Date.now();
    const expiry = now + this.#ttlMs;
    const rooms = [...this.#local].map(([room, users]) => ({ room, users: [...users.keys()] }));
    try {
      const replies = await this.#connection.call('chat heartbeat', (client) => {
        const batch = client.pipeline();
        for (const { room, users } of rooms) {
          const key = this.#key('presence', room);
          batch.zremrangebyscore(key, '-inf', now);
          batch.zadd(key, ...users.flatMap((user) => [expiry, this.#entry(user)]));
          batch.pexpire(key, this.#ttlMs * 2);
          batch.zadd(`${this.#prefix}rooms`, expiry, room);
        }
        return batch.exec();
      });
      const lost = rooms.filter((_, i) => Number(replies?.[i * 4]?.[1] ?? 0) > 0);
      for (const { room } of lost) this.#onPresenceChange?.(room, await this.members(room));
    } catch (error) {
      this.#logger.warn(`chat rooms: presence heartbeat failed: ${(error as Error).message}`);
    }
  }

  #key(kind: 'history' | 'presence', room: string): string {
    return `${this.#prefix}${kind}:${room}`;
  }

  #entry(user: string): string {
    return `${this.#process} ${user}`;
  }
}

/** The users of presence entries ("<process> <user>"), each once, sorted. */
function usersOf(entries: string[]): string[] {
  return [...new Set(entries.map((entry) => entry.slice(entry.indexOf(' ') + 1)))].sort();
}
