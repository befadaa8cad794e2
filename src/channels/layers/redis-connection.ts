// One Redis connection of the Redis layer (or session store), on ioredis, with the behaviour the
// layer promises rather than ioredis' defaults:
// - it reconnects by itself, with a back-off capped at `maxReconnectDelayMs`, forever;
// - a command never waits unboundedly: ioredis' offline queue is off, so a call waits for the
//   connection to be ready for at most `timeoutMs` (together with its own execution) and then
//   rejects with ERR_CHANNEL_LAYER_UNAVAILABLE;
// - a command in flight when the connection drops is never sent again (no duplicate RPUSH or
//   PUBLISH after a restart: delivery stays at-most-once);
// - losing and regaining the server is logged and counted.
import { Redis, type RedisOptions } from 'ioredis';
import { ChannelLayerRangeError, ChannelLayerTypeError, layerClosed, layerUnavailable } from '../errors.ts';

/** Where the layer reports connection events; defaults to the console. */
export interface RedisLayerLogger {
  info(message: string): void;
  warn(message: string): void;
}

export const consoleLogger: RedisLayerLogger = {
  info: (message) => console.info(message),
  warn: (message) => console.warn(message),
};

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). Default redis://127.0.0.1:6379. */
  url?: string;
  /** Extra ioredis options (TLS, password, db, ...); the layer's own settings take precedence. */
  redisOptions?: RedisOptions;
  /** Seconds a call waits for Redis before rejecting with ERR_CHANNEL_LAYER_UNAVAILABLE. Default 5. */
  timeout?: number;
  /** Longest pause between reconnection attempts, in seconds. Default 1. */
  maxReconnectDelay?: number;
  logger?: RedisLayerLogger;
}

export interface ResolvedConnectionOptions {
  url: string;
  redisOptions: RedisOptions;
  timeoutMs: number;
  maxReconnectDelayMs: number;
  logger: RedisLayerLogger;
}

export function resolveConnectionOptions(options: RedisConnectionOptions): ResolvedConnectionOptions {
  const url = options.url ?? 'redis://127.0.0.1:6379';
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url))
    throw new ChannelLayerTypeError(
      `url must be a redis:// or rediss:// URL, got ${String(url)}`,
      'ERR_CHANNEL_INVALID_OPTION',
    );
  const logger = options.logger ?? consoleLogger;
  if (typeof logger?.info !== 'function' || typeof logger.warn !== 'function')
    throw new ChannelLayerTypeError(
      'logger must have info(message) and warn(message) functions',
      'ERR_CHANNEL_INVALID_OPTION',
    );
  return {
    url,
    redisOptions: options.redisOptions ?? {},
    timeoutMs: positiveSeconds('timeout', options.timeout ?? 5),
    maxReconnectDelayMs: positiveSeconds('maxReconnectDelay', options.maxReconnectDelay ?? 1),
    logger,
  };
}

function positiveSeconds(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || value > 3600)
    throw new ChannelLayerRangeError(
      `${name} must be a number of seconds above 0 and at most 3600, got ${String(value)}`,
      'ERR_CHANNEL_INVALID_OPTION',
    );
  return value * 1000;
}

export class RedisConnection {
  readonly client: Redis;
  readonly #options: ResolvedConnectionOptions;
  readonly #role: string;
  /** Calls waiting for the connection to become ready. */
  readonly #readyWaiters = new Set<() => void>();
  #everReady = false;
  /**
   * Ready as far as we know: ioredis may still say 'ready' for a moment after the socket failed
   * (commands already reject), so a connection error also clears this until the next 'ready'.
   */
  #up = false;
  #lastError: string | undefined;
  #lostAt: number | undefined;
  #closed = false;
  /** How many times the connection came back after being lost. */
  reconnects = 0;
  /** Called each time the connection becomes ready: the first time, and after each reconnection. */
  onReady: ((reconnected: boolean) => void) | undefined;

  constructor(options: ResolvedConnectionOptions, role: string) {
    this.#options = options;
    this.#role = role;
    // (The cast: ioredis' option types do not allow exactOptionalPropertyTypes' spread.)
    this.client = new Redis(options.url, {
      ...(options.redisOptions as object),
      lazyConnect: false,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt: number) =>
        Math.min(50 * 2 ** Math.min(attempt, 10), options.maxReconnectDelayMs),
    });
    this.client.on('ready', () => this.#ready());
    this.client.on('close', () => this.#lost());
    // Without a listener ioredis prints every failed attempt itself. Each distinct error is logged
    // once (a server that stays down refuses every attempt the same way).
    this.client.on('error', (error: Error) => {
      if (this.#closed || error.message === this.#lastError) return;
      this.#lastError = error.message;
      this.#options.logger.warn(
        `channel layer: ${this.#role} connection to ${this.#where()}: ${error.message}`,
      );
    });
  }

  get ready(): boolean {
    return this.#up && this.client.status === 'ready';
  }

  /** False until the first 'ready': the connection is still being made, not lost. */
  get everReady(): boolean {
    return this.#everReady;
  }

  /** Runs `command` once the connection is ready, within the timeout; never resends it. */
  async call<T>(operation: string, command: (client: Redis) => Promise<T>): Promise<T> {
    if (this.#closed) throw layerClosed(operation);
    const deadline = Date.now() + this.#options.timeoutMs;
    if (!this.ready) await this.#waitReady(operation, deadline);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(layerUnavailable(operation, `no reply within ${this.#options.timeoutMs} ms`)),
        Math.max(1, deadline - Date.now()),
      );
    });
    try {
      return await Promise.race([command(this.client), timeout]);
    } catch (error) {
      if (this.#closed) throw layerClosed(operation);
      if (isConnectionError(error)) {
        this.#up = false;
        throw layerUnavailable(operation, (error as Error).message);
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves when the connection is ready (at once if it is); rejects when it is closed. */
  whenReady(): Promise<void> {
    if (this.#closed) return Promise.reject(layerClosed('receive'));
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.add(resolve));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const wake of this.#readyWaiters) wake();
    this.#readyWaiters.clear();
    if (this.ready) {
      try {
        await this.client.quit();
        return;
      } catch {
        // Lost while quitting: fall through to the hard disconnect.
      }
    }
    this.client.disconnect(false);
  }

  async #waitReady(operation: string, deadline: number): Promise<void> {
    let wake: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        wake = resolve;
        this.#readyWaiters.add(resolve);
        timer = setTimeout(
          () =>
            reject(
              layerUnavailable(
                operation,
                `not connected to ${this.#where()} for ${this.#options.timeoutMs} ms`,
              ),
            ),
          Math.max(1, deadline - Date.now()),
        );
      });
    } finally {
      clearTimeout(timer);
      this.#readyWaiters.delete(wake!);
    }
    if (this.#closed) throw layerClosed(operation);
  }

  #ready(): void {
    if (this.#closed) return;
    if (this.#everReady) {
      this.reconnects++;
      const downMs = this.#lostAt === undefined ? 0 : Date.now() - this.#lostAt;
      this.#options.logger.info(
        `channel layer: ${this.#role} connection to ${this.#where()} is back after ${downMs} ms`,
      );
    }
    const wasReconnect = this.#everReady;
    this.#everReady = true;
    this.#up = true;
    this.#lastError = undefined;
    this.#lostAt = undefined;
    const waiters = [...this.#readyWaiters];
    this.#readyWaiters.clear();
    for (const wake of waiters) wake();
    this.onReady?.(wasReconnect);
  }

  #lost(): void {
    this.#up = false;
    if (this.#closed || !this.#everReady || this.#lostAt !== undefined) return;
    this.#lostAt = Date.now();
    this.#options.logger.warn(
      `channel layer: ${this.#role} connection to ${this.#where()} lost; reconnecting`,
    );
  }

  #where(): string {
    // The URL without credentials.
    return this.#options.url.replace(/\/\/[^@/]*@/, '//');
  }
}

/** Errors ioredis reports for a missing or lost connection (as opposed to a Redis reply error). */
function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'ReplyError') return false;
  return /Connection is closed|Stream isn't writeable|enableOfflineQueue|ECONNREFUSED|ECONNRESET|EPIPE|max retries|Connection reset|connect ETIMEDOUT/i.test(
    error.message,
  );
}
