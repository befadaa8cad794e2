// What the chat keeps per room: the last N messages (shown to whoever joins) and who is connected
// (each user once, however many tabs). ChatRooms is the contract the chat consumer uses;
// MemoryChatRooms keeps it in this process, RedisChatRooms (chat-rooms-redis.ts) shares it between
// workers. In memory, rooms with nobody in them and no history are forgotten, and the number of
// rooms with history is capped, so room names chosen by clients cannot grow the server's memory
// without bound.

export interface ChatMessage {
  readonly id: number;
  readonly user: string;
  readonly text: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** A value or a promise of it: the in-memory rooms answer at once, the Redis ones asynchronously. */
export type Awaitable<T> = T | Promise<T>;

export interface ChatRooms {
  /** A user's connection joined; returns the room's history (oldest first). */
  join(room: string, user: string): Awaitable<ChatMessage[]>;
  /** A user's connection left. */
  leave(room: string, user: string): Awaitable<void>;
  /** The users connected to `room`, sorted, each once. */
  members(room: string): Awaitable<string[]>;
  /** Records a message in the room's history and returns it with its id and time. */
  post(room: string, user: string, text: string): Awaitable<ChatMessage>;
  /** Rooms with someone in them, with their member counts, busiest first. */
  activeRooms(): Awaitable<{ room: string; members: number }[]>;
  /** Rooms this process holds state for (a gauge). */
  readonly roomCount: number;
}

interface Room {
  history: ChatMessage[];
  /** user → open connections of that user in the room. */
  members: Map<string, number>;
  lastUsed: number;
}

export interface ChatRoomsOptions {
  /** Messages kept per room. */
  historySize: number;
  /** Rooms whose history is kept; the least recently used empty room is forgotten beyond it. */
  maxRooms: number;
  now?: () => number;
}

export class MemoryChatRooms implements ChatRooms {
  readonly #rooms = new Map<string, Room>();
  readonly #options: Required<ChatRoomsOptions>;
  #nextId = 1;

  constructor(options: ChatRoomsOptions) {
    this.#options = { now: Date.now, ...options };
  }

  /** A user's connection joined; returns the room's history (oldest first). */
  join(room: string, user: string): ChatMessage[] {
    const state = this.#room(room);
    state.members.set(user, (state.members.get(user) ?? 0) + 1);
    return [...state.history];
  }

  /** A user's connection left. */
  leave(room: string, user: string): void {
    const state = this.#rooms.get(room);
    if (state === undefined) return;
    const count = (state.members.get(user) ?? 0) - 1;
    if (count > 0) state.members.set(user, count);
    else state.members.delete(user);
    if (state.members.size === 0 && state.history.length === 0) this.#rooms.delete(room);
  }

  /** The users connected to `room`, sorted. */
  members(room: string): string[] {
    return [...(this.#rooms.get(room)?.members.keys() ?? [])].sort();
  }

  /** Records a message in the room's history and returns it with its id and time. */
  post(room: string, user: string, text: string): ChatMessage {
    const state = this.#room(room);
    const message: ChatMessage = { id: this.#nextId++, user, text, at: this.#options.now() };
    state.history.push(message);
    if (state.history.length > this.#options.historySize) state.history.shift();
    return message;
  }

  /** Rooms with someone in them, with their member counts, busiest first. */
  activeRooms(): { room: string; members: number }[] {
    return [...this.#rooms]
      .filter(([, state]) => state.members.size > 0)
      .map(([room, state]) => ({ room, members: state.members.size }))
      .sort((a, b) => b.members - a.members || a.room.localeCompare(b.room));
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  #room(name: string): Room {
    let state = this.#rooms.get(name);
    if (state === undefined) {
      this.#forgetIdleRooms();
      state = { history: [], members: new Map(), lastUsed: 0 };
      this.#rooms.set(name, state);
    }
    state.lastUsed = this.#options.now();
    return state;
  }

  #forgetIdleRooms(): void {
    if (this.#rooms.size < this.#options.maxRooms) return;
    const idle = [...this.#rooms]
      .filter(([, state]) => state.members.size === 0)
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [name] of idle.slice(0, this.#rooms.size - this.#options.maxRooms + 1))
      this.#rooms.delete(name);
  }
}
