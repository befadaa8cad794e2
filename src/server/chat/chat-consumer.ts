// The chat room consumer. Rooms come from the URL (/ws/chat/<room>/); only logged-in users may
// connect (others are refused with 403 before the upgrade). On join a client gets the room's recent
// history and who is there; a message is checked (text, size, the user's rate), recorded, and sent to
// everyone in the room with one groupBroadcast (the native fan-out: no consumer code per member).
// Presence is read from the rooms after the join or leave was recorded, so with the rooms in Redis
// the list sent to the group (every worker's clients, through the Redis layer) is the shared one.
// The page renders every text with textContent, never as HTML.
import { JsonWebsocketConsumer } from '../../channels/consumer/json-consumer.ts';
import type { EventLog } from '../event-log.ts';
import type { Metrics } from '../metrics.ts';
import { joinSessionGroup, SIGNED_OUT_CLOSE_CODE } from '../session-group.ts';
import type { ChatRooms } from './chat-rooms.ts';
import type { RateLimiter } from './rate-limiter.ts';

export interface ChatDependencies {
  readonly rooms: ChatRooms;
  readonly rateLimiter: RateLimiter;
  /** Longest message, in characters. */
  readonly maxMessageChars: number;
  readonly metrics: Metrics;
  readonly log: EventLog;
}

export interface ServerUser {
  readonly username: string;
  readonly isAuthenticated: true;
  readonly isAdmin: boolean;
}

export const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function userOf(scope: { readonly [key: string]: unknown }): ServerUser | undefined {
  const user = scope.user as Partial<ServerUser> | undefined;
  return user?.isAuthenticated === true && typeof user.username === 'string'
    ? (user as ServerUser)
    : undefined;
}

/** The consumer class for one server, closed over its rooms and limits. */
export function chatConsumer(deps: ChatDependencies): typeof JsonWebsocketConsumer {
  return class ChatConsumer extends JsonWebsocketConsumer {
    room = '';
    user: ServerUser | undefined;
    joined = false;

    override async connect(): Promise<void> {
      this.user = userOf(this.scope);
      const room = this.scope.urlRoute?.kwargs.room;
      if (this.user === undefined || typeof room !== 'string' || !ROOM_NAME.test(room)) {
        this.close();
        return;
      }
      this.room = room;
      this.groups = [`chat.${room}`];
      await this.channelLayer!.groupAdd(this.groups[0]!, this.channelName);
      await joinSessionGroup(this);
      // Joined (and history read) before accepting: nothing is awaited between accept() and sending
      // the history, so the history is the first thing the client gets (the room's broadcasts reach
      // the socket only once it is open).
      const history = await deps.rooms.join(room, this.user.username);
      this.joined = true;
      this.accept();
      deps.metrics.increment('bufferevent_chat_joins_total');
      deps.log.event('chat.join', { user: this.user.username, room });
      this.sendJson({ type: 'history', room, messages: history });
      await this.#broadcastPresence();
    }

    override async receiveJson(content: unknown): Promise<void> {
      const user = this.user!;
      const text = (content as { type?: unknown; text?: unknown } | null)?.text;
      if ((content as { type?: unknown } | null)?.type !== 'message' || typeof text !== 'string') {
        this.sendJson({
          type: 'error',
          code: 'bad_message',
          message: 'send { "type": "message", "text": "..." }',
        });
        return;
      }
      const trimmed = text.trim();
      if (trimmed === '') return;
      if (trimmed.length > deps.maxMessageChars) {
        this.sendJson({
          type: 'error',
          code: 'too_long',
          message: `messages are limited to ${deps.maxMessageChars} characters`,
        });
        return;
      }
      if (!deps.rateLimiter.take(user.username)) {
        deps.metrics.increment('bufferevent_chat_rate_limited_total');
        this.sendJson({
          type: 'error',
          code: 'rate_limited',
          message: 'you are sending too fast; wait a moment',
        });
        return;
      }
      const message = await deps.rooms.post(this.room, user.username, trimmed);
      deps.metrics.increment('bufferevent_chat_messages_total');
      await this.channelLayer!.groupBroadcast(
        this.groups[0]!,
        JSON.stringify({ type: 'message', ...message }),
      );
    }

    override async disconnect(): Promise<void> {
      if (!this.joined) return;
      await deps.rooms.leave(this.room, this.user!.username);
      deps.log.event('chat.leave', { user: this.user!.username, room: this.room });
      // Leave first, so the presence list no longer has this connection's socket in the group.
      await this.channelLayer!.groupDiscard(this.groups[0]!, this.channelName);
      await this.#broadcastPresence();
    }

    /** The user signed out (in any tab, on any process). */
    sessionEnded(): void {
      this.close(SIGNED_OUT_CLOSE_CODE, 'signed out');
    }

    async #broadcastPresence(): Promise<void> {
      const users = await deps.rooms.members(this.room);
      await this.channelLayer!.groupBroadcast(
        this.groups[0]!,
        JSON.stringify({ type: 'presence', room: this.room, users }),
      );
    }
  };
}
