// Login throttle counters in Redis, shared by every worker. Each call is one Lua script, so the whole
// rule for a key (count in the window, block at the limit, refuse while blocked) is applied
// atomically however many workers see attempts for the same username or address at once. Time is
// Redis' clock (TIME), not each worker's, so the windows agree across machines. Each key is a hash
// { attempts, windowEndsAt, blockedUntil } that expires when its window and block have both ended,
// so Redis holds nothing for keys that went quiet.
import {
  RedisConnection,
  resolveConnectionOptions,
  type RedisConnectionOptions,
} from '../channels/layers/redis-connection.ts';
import type { AttemptVerdict, LoginThrottleStore, ThrottleRule, ThrottleState } from './throttle-store.ts';

export interface RedisThrottleStoreOptions extends RedisConnectionOptions {
  /** The start of every key. Default 'bufferevent:throttle:'. */
  readonly prefix?: string;
}

// Loads the entry at KEYS[1] as (now, attempts, windowEndsAt, blockedUntil), an expired one as zeros.
const LOAD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 'attempts', 'windowEndsAt', 'blockedUntil')
local attempts = tonumber(v[1]) or 0
local windowEnds = tonumber(v[2]) or 0
local blocked = tonumber(v[3]) or 0
local function save()
  redis.call('HSET', KEYS[1], 'attempts', attempts, 'windowEndsAt', windowEnds, 'blockedUntil', blocked)
  redis.call('PEXPIREAT', KEYS[1], math.max(windowEnds, blocked, now + 1))
end
`;

// ARGV: limit, windowMs, cooldownMs. Returns { counted (0/1), blockedForMs }.
const RECORD_ATTEMPT = `${LOAD}
local limit, window, cooldown = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if blocked > now then return { 0, blocked - now } end
if windowEnds <= now then attempts = 0; windowEnds = now + window; blocked = 0 end
attempts = attempts + 1
if attempts >= limit then blocked = now + cooldown end
save()
return { 1, math.max(0, blocked - now) }
`;

// ARGV: limit. Takes one attempt back; lifts the block when the count falls under the limit.
const REFUND = `${LOAD}
if windowEnds <= now and blocked <= now then return 0 end
attempts = math.max(0, attempts - 1)
if attempts < tonumber(ARGV[1]) then blocked = 0 end
save()
return 1
`;

// Returns { attempts in the current window, blockedForMs }.
const STATE = `${LOAD}
if windowEnds <= now then attempts = 0 end
return { attempts, math.max(0, blocked - now) }
`;

export class RedisThrottleStore implements LoginThrottleStore {
  readonly #connection: RedisConnection;
  readonly #prefix: string;

  constructor(options: RedisThrottleStoreOptions = {}) {
    this.#prefix = options.prefix ?? 'bufferevent:throttle:';
    this.#connection = new RedisConnection(resolveConnectionOptions(options), 'login throttle');
  }

  async recordAttempt(key: string, rule: ThrottleRule): Promise<AttemptVerdict> {
    const [counted, blockedForMs] = await this.#run('throttle attempt', RECORD_ATTEMPT, key, [
      rule.limit,
      rule.windowMs,
      rule.cooldownMs,
    ]);
    return { allowed: counted === 1, blockedForMs: blockedForMs ?? 0 };
  }

  async refund(key: string, rule: ThrottleRule): Promise<void> {
    await this.#run('throttle refund', REFUND, key, [rule.limit]);
  }

  async state(key: string): Promise<ThrottleState> {
    const [attempts, blockedForMs] = await this.#run('throttle state', STATE, key, []);
    return { attempts: attempts ?? 0, blockedForMs: blockedForMs ?? 0 };
  }

  async reset(key: string): Promise<void> {
    await this.#connection.call('throttle reset', (client) => client.del(this.#prefix + key));
  }

  /** Closes the connection; later calls reject with ERR_CHANNEL_LAYER_CLOSED. */
  close(): Promise<void> {
    return this.#connection.close();
  }

  async #run(operation: string, script: string, key: string, args: number[]): Promise<number[]> {
    const reply = await this.#connection.call(operation, (client) =>
      client.eval(script, 1, this.#prefix + key, ...args.map(String)),
    );
    return (Array.isArray(reply) ? reply : [reply]).map(Number);
  }
}
