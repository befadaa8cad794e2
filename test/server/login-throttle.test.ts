// Login throttling with a fake clock: limits per user and per address, the cooldown, reset on
// success, and the memory bounds of the in-memory store.
import { describe, expect, it } from 'vitest';
import { LoginThrottle, addressKey } from '../../src/server/login-throttle.ts';
import { MemoryThrottleStore } from '../../src/server/throttle-store.ts';
import { DEFAULT_LIMITS } from '../../src/server/config.ts';
import { errorCodeOf } from '../error-assertions.ts';

const SECOND = 1000;

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

function throttleWith(clock: { now: () => number }, store = new MemoryThrottleStore({ now: clock.now })) {
  const throttle = new LoginThrottle({
    attemptsPerUser: 3,
    attemptsPerAddress: 5,
    windowMs: 60 * SECOND,
    cooldownMs: 300 * SECOND,
    store,
  });
  return { throttle, store };
}

// A login as the server makes it: begin(), then the password check, then succeeded() when right.
async function login(throttle: LoginThrottle, name: string, address: string, right = false) {
  const verdict = await throttle.begin(name, address);
  if (verdict.allowed && right) await throttle.succeeded(name, address);
  return verdict;
}

describe('LoginThrottle', () => {
  it('allows attemptsPerUser failed attempts for a user, then refuses it for the cooldown', async () => {
    const clock = fakeClock();
    const { throttle } = throttleWith(clock);
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
      expect(await login(throttle, 'alice', address)).toEqual({ allowed: true });
    expect(await throttle.check('alice', '10.0.0.4')).toEqual({
      allowed: false,
      retryAfterMs: 300 * SECOND,
      by: 'user',
    });
    expect(await login(throttle, 'alice', '10.0.0.4')).toEqual({
      allowed: false,
      retryAfterMs: 300 * SECOND,
      by: 'user',
    });
    clock.advance(100 * SECOND);
    // From any address, even with the right password; other users are not affected.
    expect(await login(throttle, 'alice', '192.168.1.1', true)).toEqual({
      allowed: false,
      retryAfterMs: 200 * SECOND,
      by: 'user',
    });
    expect(await login(throttle, 'bob', '10.0.0.1')).toEqual({ allowed: true });
    clock.advance(200 * SECOND - 1);
    expect((await throttle.check('alice', '10.0.0.1')).allowed).toBe(false);
    clock.advance(1);
    expect(await throttle.check('alice', '10.0.0.1')).toEqual({ allowed: true });
    // The window ended during the cooldown: counting starts again.
    expect(await login(throttle, 'alice', '10.0.0.9')).toEqual({ allowed: true });
    expect(await login(throttle, 'alice', '10.0.0.9')).toEqual({ allowed: true });
  });

  it('a burst of attempts sent at once gets exactly attemptsPerUser through', async () => {
    const clock = fakeClock();
    const { throttle } = throttleWith(clock);
    const verdicts = await Promise.all(
      Array.from({ length: 50 }, (_, i) => throttle.begin('alice', `10.1.${i}.1`)),
    );
    expect(verdicts.filter((verdict) => verdict.allowed)).toHaveLength(3);
    expect(verdicts.slice(0, 3).every((verdict) => verdict.allowed)).toBe(true);
  });

  it('attempts spread beyond the window do not add up (fixed window from the first attempt)', async () => {
    const clock = fakeClock();
    const { throttle } = throttleWith(clock);
    await login(throttle, 'alice', '10.0.0.1');
    clock.advance(30 * SECOND);
    await login(throttle, 'alice', '10.0.0.1');
    clock.advance(30 * SECOND); // the window of the first attempt has ended
    expect(await login(throttle, 'alice', '10.0.0.1')).toEqual({ allowed: true });
    expect(await login(throttle, 'alice', '10.0.0.1')).toEqual({ allowed: true });
    expect(await login(throttle, 'alice', '10.0.0.1')).toEqual({ allowed: true });
    expect((await login(throttle, 'alice', '10.0.0.1')).allowed).toBe(false);
  });

  it('refuses an address after attemptsPerAddress failures over many usernames, without counting those users', async () => {
    const clock = fakeClock();
    const { throttle, store } = throttleWith(clock);
    for (const name of ['a', 'b', 'c', 'd', 'e'])
      expect(await login(throttle, name, '10.0.0.66')).toEqual({ allowed: true });
    expect(await login(throttle, 'f', '10.0.0.66')).toEqual({
      allowed: false,
      retryAfterMs: 300 * SECOND,
      by: 'address',
    });
    expect(await store.state('user:f')).toEqual({ attempts: 0, blockedForMs: 0 });
    expect(await throttle.check('f', '10.0.0.67')).toEqual({ allowed: true });
  });

  it('a user-blocked attempt is not counted against the address', async () => {
    const clock = fakeClock();
    const { throttle, store } = throttleWith(clock);
    for (let i = 0; i < 3; i++) await login(throttle, 'alice', `10.0.0.${i}`);
    expect((await login(throttle, 'alice', '10.0.0.99')).allowed).toBe(false);
    expect(await store.state('addr:10.0.0.99')).toEqual({ attempts: 0, blockedForMs: 0 });
  });

  it('a success clears the user count and takes back its own attempt from the address, not the failures', async () => {
    const clock = fakeClock();
    const { throttle, store } = throttleWith(clock);
    await login(throttle, 'alice', '10.0.0.1');
    await login(throttle, 'alice', '10.0.0.1');
    await login(throttle, 'alice', '10.0.0.1', true);
    expect(await store.state('user:alice')).toEqual({ attempts: 0, blockedForMs: 0 });
    expect(await store.state('addr:10.0.0.1')).toEqual({ attempts: 2, blockedForMs: 0 });
    for (let i = 0; i < 10; i++)
      expect(await login(throttle, `user${i}`, '10.0.0.2', true)).toEqual({ allowed: true });
    // Two more failures, one success, one more failure reach the address limit of 5.
    await login(throttle, 'bob', '10.0.0.1');
    await login(throttle, 'bob', '10.0.0.1', true);
    await login(throttle, 'carol', '10.0.0.1');
    expect(await store.state('addr:10.0.0.1')).toEqual({ attempts: 4, blockedForMs: 0 });
    expect(await login(throttle, 'dave', '10.0.0.1')).toEqual({ allowed: true });
    expect(await throttle.check('erin', '10.0.0.1')).toEqual({
      allowed: false,
      retryAfterMs: 300 * SECOND,
      by: 'address',
    });
  });

  it('the right password on the attempt that reached the limit lifts the block it started', async () => {
    const clock = fakeClock();
    const { throttle } = throttleWith(clock);
    await login(throttle, 'alice', '10.0.0.1');
    await login(throttle, 'alice', '10.0.0.1');
    expect(await login(throttle, 'alice', '10.0.0.1', true)).toEqual({ allowed: true });
    expect(await throttle.check('alice', '10.0.0.1')).toEqual({ allowed: true });
  });

  it('refused attempts do not extend the block', async () => {
    const clock = fakeClock();
    const { throttle } = throttleWith(clock);
    for (let i = 0; i < 3; i++) await login(throttle, 'alice', `10.0.0.${i}`);
    clock.advance(10 * SECOND);
    expect(await login(throttle, 'alice', '10.0.0.9')).toEqual({
      allowed: false,
      retryAfterMs: 290 * SECOND,
      by: 'user',
    });
    expect(await throttle.check('alice', '10.0.0.9')).toEqual({
      allowed: false,
      retryAfterMs: 290 * SECOND,
      by: 'user',
    });
  });

  it('IPv6 addresses of one /64 share a counter; IPv4-mapped addresses count as IPv4', async () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'));
    expect(addressKey('2001:db8:1:2::1')).toBe('addr:2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'));
    expect(addressKey('::1')).toBe('addr:0:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.7')).toBe('addr:192.0.2.7');
    expect(addressKey('192.0.2.7')).toBe('addr:192.0.2.7');
    expect(addressKey('64:ff9b::192.0.2.7')).toBe('addr:64:ff9b:0:0::/64');
    const clock = fakeClock();
    const { throttle } = throttleWith(clock);
    for (let i = 1; i <= 5; i++) await login(throttle, `user${i}`, `2001:db8:1:2::${i}`);
    expect((await throttle.check('someone', '2001:db8:1:2:dead:beef::1')).allowed).toBe(false);
  });

  it('fromLimits uses the config limits in seconds', async () => {
    const clock = fakeClock();
    const throttle = LoginThrottle.fromLimits(
      { ...DEFAULT_LIMITS, loginAttemptsPerUser: 2, loginCooldownSeconds: 60 },
      new MemoryThrottleStore({ now: clock.now }),
    );
    await login(throttle, 'alice', '10.0.0.1');
    await login(throttle, 'alice', '10.0.0.1');
    expect(await throttle.check('alice', '10.0.0.1')).toEqual({
      allowed: false,
      retryAfterMs: 60 * SECOND,
      by: 'user',
    });
  });

  it('refuses options that are not positive integers', () => {
    const good = { attemptsPerUser: 1, attemptsPerAddress: 1, windowMs: 1, cooldownMs: 1 };
    expect(errorCodeOf(() => new LoginThrottle(good))).toBeUndefined();
    for (const bad of [0, -1, 1.5, NaN, '5'])
      for (const key of Object.keys(good))
        expect(errorCodeOf(() => new LoginThrottle({ ...good, [key]: bad }))).toBe('ERR_INVALID_ARG');
    expect(errorCodeOf(() => new MemoryThrottleStore({ maxKeys: 0 }))).toBe('ERR_INVALID_ARG');
  });
});

describe('MemoryThrottleStore bounds', () => {
  const rule = { limit: 3, windowMs: 60 * SECOND, cooldownMs: 300 * SECOND };

  it('prunes entries whose window and block have ended as new failures arrive', async () => {
    const clock = fakeClock();
    const store = new MemoryThrottleStore({ now: clock.now });
    for (let i = 0; i < 100; i++) await store.recordAttempt(`user:${i}`, rule);
    expect(store.size).toBe(100);
    clock.advance(60 * SECOND);
    await store.recordAttempt('user:new', rule);
    expect(store.size).toBe(1);
  });

  it('keeps a blocked key until its cooldown ends, even after its window', async () => {
    const clock = fakeClock();
    const store = new MemoryThrottleStore({ now: clock.now });
    for (let i = 0; i < 3; i++) await store.recordAttempt('user:blocked', rule);
    clock.advance(61 * SECOND);
    await store.recordAttempt('user:other', rule);
    expect(await store.state('user:blocked')).toEqual({ attempts: 0, blockedForMs: 239 * SECOND });
    clock.advance(239 * SECOND);
    store.prune();
    expect(store.size).toBe(0);
    expect(await store.state('user:blocked')).toEqual({ attempts: 0, blockedForMs: 0 });
  });

  it('never tracks more than maxKeys: the least recently failed key is forgotten first', async () => {
    const clock = fakeClock();
    const store = new MemoryThrottleStore({ now: clock.now, maxKeys: 3 });
    await store.recordAttempt('a', rule);
    await store.recordAttempt('b', rule);
    await store.recordAttempt('c', rule);
    await store.recordAttempt('a', rule); // 'a' is now the most recent
    await store.recordAttempt('d', rule); // evicts 'b'
    expect(store.size).toBe(3);
    expect(store.evictions).toBe(1);
    expect(await store.state('b')).toEqual({ attempts: 0, blockedForMs: 0 });
    expect(await store.state('a')).toEqual({ attempts: 2, blockedForMs: 0 });
    for (let i = 0; i < 1000; i++) await store.recordAttempt(`flood${i}`, rule);
    expect(store.size).toBe(3);
    expect(store.evictions).toBe(1001);
  });

  it('state() of an unknown key is not throttled and creates no entry', async () => {
    const store = new MemoryThrottleStore({ now: fakeClock().now });
    expect(await store.state('nobody')).toEqual({ attempts: 0, blockedForMs: 0 });
    expect(store.size).toBe(0);
  });
});
