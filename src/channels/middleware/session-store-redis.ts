// RedisSessionStore: sessions in Redis, shared by every process, for SessionMiddleware. One key per
// session, `<prefix><id>`, holding the data as JSON with a TTL of the session's max age, so Redis
// drops expired sessions by itself: get → GET, set → SET PX, delete → DEL, touch → PEXPIRE.
// The connection behaves as the Redis channel layer's (reconnects by itself; a call waits at most
// `timeout` seconds, then rejects with ERR_CHANNEL_LAYER_UNAVAILABLE).
import { ChannelLayerTypeError } from '../errors.ts';
import {
  RedisConnection,
  resolveConnectionOptions,
  type RedisConnectionOptions,
} from '../layers/redis-connection.ts';
import type { SessionData, SessionStore } from './session-store.ts';

export interface RedisSessionStoreOptions extends RedisConnectionOptions {
  /** The start of every session key. Default 'session:'. */
  prefix?: string;
}

export class RedisSessionStore implements SessionStore {
  readonly #connection: RedisConnection;
  readonly #prefix: string;

  constructor(options: RedisSessionStoreOptions = {}) {
    const prefix = options.prefix ?? 'session:';
    if (typeof prefix !== 'string' || prefix.length > 128)
      throw new ChannelLayerTypeError(
        'RedisSessionStore: prefix must be a string of at most 128 characters',
        'ERR_CHANNEL_INVALID_OPTION',
      );
    this.#prefix = prefix;
    this.#connection = new RedisConnection(resolveConnectionOptions(options), 'session store');
  }

  async get(id: string): Promise<SessionData | undefined> {
    const json = await this.#connection.call('session get', (client) => client.get(this.#key(id)));
    if (json === null) return undefined;
    try {
      // Parsed into objects without a prototype-bearing '__proto__' risk: JSON.parse defines own keys.
      return JSON.parse(json) as SessionData;
    } catch {
      return undefined; // not ours (or corrupted): an unknown session
    }
  }

  async set(id: string, data: SessionData, maxAgeSeconds: number): Promise<void> {
    const json = JSON.stringify(data);
    await this.#connection.call('session set', (client) =>
      client.set(this.#key(id), json, 'PX', ttlMs(maxAgeSeconds)),
    );
  }

  async delete(id: string): Promise<void> {
    await this.#connection.call('session delete', (client) => client.del(this.#key(id)));
  }

  async touch(id: string, maxAgeSeconds: number): Promise<void> {
    // PEXPIRE on a missing key does nothing, as the contract asks for an unknown session.
    await this.#connection.call('session touch', (client) =>
      client.pexpire(this.#key(id), ttlMs(maxAgeSeconds)),
    );
  }

  /** Closes the connection; later calls reject with ERR_CHANNEL_LAYER_CLOSED. */
  close(): Promise<void> {
    return this.#connection.close();
  }

  #key(id: string): string {
    if (typeof id !== 'string' || id === '')
      throw new ChannelLayerTypeError('session id must be a non-empty string', 'ERR_CHANNEL_INVALID_NAME');
    return this.#prefix + id;
  }
}

function ttlMs(maxAgeSeconds: number): number {
  if (typeof maxAgeSeconds !== 'number' || !(maxAgeSeconds > 0) || !Number.isFinite(maxAgeSeconds))
    throw new ChannelLayerTypeError(
      `maxAgeSeconds must be a positive number, got ${String(maxAgeSeconds)}`,
      'ERR_CHANNEL_INVALID_OPTION',
    );
  return Math.max(1, Math.round(maxAgeSeconds * 1000));
}
