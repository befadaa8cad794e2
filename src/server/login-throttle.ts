// Login throttling: login attempts are counted per username and per client address *before* the
// password is checked, so a burst of attempts sent at once cannot all pass a check made before any
// of them failed. The attempt that reaches a limit within the window blocks that username or address
// for the cooldown; blocked attempts are refused without checking the password (a blocked attacker
// learns nothing) and count nothing. A successful login clears its username's count and takes back
// its own attempt from the address's count, but leaves the address's failures: one valid account
// must not let an address keep guessing other accounts' passwords.
//
// Use: `const verdict = await throttle.begin(name, address)`; if refused, answer "too many attempts,
// retry in verdict.retryAfterMs"; otherwise check the password and on success call
// `throttle.succeeded(name, address)`. A failure needs no call: it was counted by begin().
import { isIP } from 'node:net';
import type { LimitsConfig } from './config.ts';
import { ServerError } from './errors.ts';
import { MemoryThrottleStore, type LoginThrottleStore, type ThrottleRule } from './throttle-store.ts';

export interface LoginThrottleOptions {
  readonly attemptsPerUser: number;
  readonly attemptsPerAddress: number;
  readonly windowMs: number;
  readonly cooldownMs: number;
  /** Default: a new MemoryThrottleStore. */
  readonly store?: LoginThrottleStore;
}

export type ThrottleDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterMs: number; readonly by: 'user' | 'address' };

const ALLOWED: ThrottleDecision = Object.freeze({ allowed: true });

export class LoginThrottle {
  readonly #store: LoginThrottleStore;
  readonly #userRule: ThrottleRule;
  readonly #addressRule: ThrottleRule;

  /** The throttle the config's `limits` describe. */
  static fromLimits(limits: LimitsConfig, store?: LoginThrottleStore): LoginThrottle {
    return new LoginThrottle({
      attemptsPerUser: limits.loginAttemptsPerUser,
      attemptsPerAddress: limits.loginAttemptsPerAddress,
      windowMs: limits.loginWindowSeconds * 1000,
      cooldownMs: limits.loginCooldownSeconds * 1000,
      ...(store === undefined ? {} : { store }),
    });
  }

  constructor(options: LoginThrottleOptions) {
    for (const name of ['attemptsPerUser', 'attemptsPerAddress', 'windowMs', 'cooldownMs'] as const) {
      const value = options[name];
      if (!Number.isInteger(value) || value < 1)
        throw new ServerError(
          `LoginThrottle: ${name} must be a positive integer, got ${String(value)}`,
          'ERR_INVALID_ARG',
        );
    }
    this.#store = options.store ?? new MemoryThrottleStore();
    const { windowMs, cooldownMs } = options;
    this.#userRule = { limit: options.attemptsPerUser, windowMs, cooldownMs };
    this.#addressRule = { limit: options.attemptsPerAddress, windowMs, cooldownMs };
  }

  /** Whether a login for `username` from `address` would be refused now (counts nothing). */
  async check(username: string, address: string): Promise<ThrottleDecision> {
    const [user, client] = await Promise.all([
      this.#store.state(userKey(username)),
      this.#store.state(addressKey(address)),
    ]);
    return decision(user.blockedForMs, client.blockedForMs);
  }

  /**
   * Counts a login attempt, before the password is checked. Refused: the username or the address is
   * blocked, nothing was counted, do not check the password.
   */
  async begin(username: string, address: string): Promise<ThrottleDecision> {
    const client = await this.#store.recordAttempt(addressKey(address), this.#addressRule);
    if (!client.allowed) {
      // The username is not counted for an attempt its address may not make; its own block, if
      // any, is still reported.
      const user = await this.#store.state(userKey(username));
      return decision(user.blockedForMs, client.blockedForMs);
    }
    const user = await this.#store.recordAttempt(userKey(username), this.#userRule);
    if (!user.allowed) {
      await this.#store.refund(addressKey(address), this.#addressRule);
      return decision(user.blockedForMs, 0);
    }
    return ALLOWED;
  }

  /** The password was right: the username's count is cleared, the attempt taken back from the address. */
  async succeeded(username: string, address: string): Promise<void> {
    await Promise.all([
      this.#store.reset(userKey(username)),
      this.#store.refund(addressKey(address), this.#addressRule),
    ]);
  }
}

function decision(userBlockedMs: number, addressBlockedMs: number): ThrottleDecision {
  if (userBlockedMs === 0 && addressBlockedMs === 0) return ALLOWED;
  return userBlockedMs >= addressBlockedMs
    ? { allowed: false, retryAfterMs: userBlockedMs, by: 'user' }
    : { allowed: false, retryAfterMs: addressBlockedMs, by: 'address' };
}

function userKey(username: string): string {
  return `user:${username}`;
}

/**
 * The key of a client address: an IPv4-mapped IPv6 address counts as its IPv4 address, and an IPv6
 * address by its /64 network (one host usually holds a whole /64, so counting single addresses would
 * give it 2^64 fresh counters).
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return `addr:${mapped[1]}`;
  if (isIP(address) !== 6) return `addr:${address}`;
  return `addr:${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, as lowercase hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const withoutZone = address.split('%')[0]!;
  let text = withoutZone;
  // A trailing embedded IPv4 address is two groups.
  const ipv4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (ipv4 !== null) {
    const [a, b, c, d] = ipv4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, ipv4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((group) => parseInt(group, 16).toString(16));
}
