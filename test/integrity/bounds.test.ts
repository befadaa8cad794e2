// Every number and option is checked before it reaches C: durations, rates and ticks stay inside what
// libevent's timeval and token-bucket arithmetic hold, options are typed (a string 'false' is not
// true), and an fd libevent cannot watch is refused when the object is made, with the errno.
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Bufferevent, EV, Event, EventBase, Listener, RateLimitGroup, socketpair } from '../../src/index.ts';
import { checkNothingLeaksAfterEach, errorCodeOf, thrownError, turns } from '../helpers.ts';

checkNothingLeaksAfterEach({ fds: true });

const MAX_MS = 2 ** 31 - 1;
const badDurations = [1e300, 2 ** 31, Number.MAX_VALUE, Infinity, -Infinity, NaN, -1, -0.5, '10', {}];

describe('durations in milliseconds', () => {
  it.each(badDurations)('Event.timer(%s) throws ERR_INVALID_TIMEOUT and adds nothing', (ms) => {
    const before = EventBase.default().stats().liveEvents;
    expect(errorCodeOf(() => Event.timer(ms as number, () => {}))).toBe('ERR_INVALID_TIMEOUT');
    expect(EventBase.default().stats().liveEvents).toBe(before);
  });

  it('does not fire a timer of 1e300 ms early: it is refused, and the longest allowed one stays pending', async () => {
    const fired: number[] = [];
    expect(errorCodeOf(() => Event.timer(1e300, () => fired.push(1)))).toBe('ERR_INVALID_TIMEOUT');
    const longest = Event.timer(MAX_MS, () => fired.push(2));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fired).toEqual([]);
    expect(longest.pending()).toBe(true);
    longest.free();
  });

  it.each(badDurations)('event.add(%s) throws ERR_INVALID_TIMEOUT and leaves the event as it was', (ms) => {
    const event = new Event(-1, 0, () => {});
    expect(errorCodeOf(() => event.add(ms as number))).toBe('ERR_INVALID_TIMEOUT');
    expect(event.pending()).toBe(false);
    event.free();
  });

  it.each(badDurations)(
    'setTimeouts({ read: %s }) throws ERR_INVALID_TIMEOUT and keeps the old timeouts',
    (ms) => {
      const [a, b] = socketpair();
      const bev = Bufferevent.socket({ fd: a });
      bev.setTimeouts({ read: 1000 });
      expect(errorCodeOf(() => bev.setTimeouts({ read: ms as number }))).toBe('ERR_INVALID_TIMEOUT');
      expect(errorCodeOf(() => bev.setTimeouts({ write: ms as number }))).toBe('ERR_INVALID_TIMEOUT');
      expect(bev.timeouts).toEqual({ read: 1000, write: null });
      bev.free();
      closeSync(b);
    },
  );

  it('never times out early with the longest read timeout', async () => {
    const [a, b] = socketpair();
    const bev = Bufferevent.socket({ fd: a });
    const events: number[] = [];
    bev.setCallbacks({ event: (_bev, what) => events.push(what) });
    bev.setTimeouts({ read: MAX_MS, write: MAX_MS });
    bev.enable(EV.READ);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(events).toEqual([]);
    bev.free();
    closeSync(b);
  });

  it('refuses configureDns({ timeoutMs }) above the bound', () => {
    expect(errorCodeOf(() => EventBase.default().configureDns({ timeoutMs: 1e300 }))).toBe(
      'ERR_INVALID_TIMEOUT',
    );
    expect(errorCodeOf(() => EventBase.default().configureDns({ timeoutMs: 0 }))).toBe('ERR_INVALID_TIMEOUT');
  });
});

describe('rate limits', () => {
  const bad = [
    { readRate: 1e300 },
    { readRate: 2 ** 40 + 1 },
    { readRate: 1000, readBurst: 1e300 },
    { writeRate: Infinity },
    { writeRate: 1000, writeBurst: -1 },
    { readRate: 1000, tickMs: 0.5 },
    { readRate: 1000, tickMs: 1.5 },
    { readRate: 1000, tickMs: 0 },
    { readRate: 1000, tickMs: 1e300 },
    { readRate: 1000, tickMs: 2 ** 31 },
    { readRate: 1000, tickMs: '100' },
  ];

  it.each(bad)('setRateLimit(%o) throws ERR_INVALID_RATE_LIMIT', (limit) => {
    const [a, b] = socketpair();
    const bev = Bufferevent.socket({ fd: a });
    expect(errorCodeOf(() => bev.setRateLimit(limit as never))).toBe('ERR_INVALID_RATE_LIMIT');
    bev.free();
    closeSync(b);
  });

  it.each(bad)('new RateLimitGroup(%o) and setRate throw ERR_INVALID_RATE_LIMIT', (limit) => {
    const before = EventBase.default().stats().liveRateLimitGroups;
    expect(errorCodeOf(() => new RateLimitGroup(limit as never))).toBe('ERR_INVALID_RATE_LIMIT');
    expect(EventBase.default().stats().liveRateLimitGroups).toBe(before);
    const group = new RateLimitGroup({ readRate: 1000 });
    expect(errorCodeOf(() => group.setRate(limit as never))).toBe('ERR_INVALID_RATE_LIMIT');
    group.free();
  });

  it('accepts the largest rate, burst and tick and still reads at once from a full first tick', async () => {
    const [a, b] = socketpair();
    const bev = Bufferevent.socket({ fd: a });
    bev.setRateLimit({ readRate: 2 ** 40, readBurst: 2 ** 52, writeRate: 2 ** 40, tickMs: 1 });
    expect(bev.getReadLimit()).toBeGreaterThan(1_000_000);
    const group = new RateLimitGroup({ readRate: 2 ** 40, tickMs: MAX_MS });
    group.free();
    bev.free();
    closeSync(b);
    await turns(1);
  });
});

describe('option objects are typed', () => {
  it.each([null, 'abc', 42, true, []])('Bufferevent.socket(%o) throws ERR_INVALID_ARG', (options) => {
    expect(errorCodeOf(() => Bufferevent.socket(options as never))).toBe('ERR_INVALID_ARG');
  });

  it.each([{ closeOnFree: 'false' }, { closeOnFree: 0 }, { deferCallbacks: 'yes' }, { writeThrough: 1 }])(
    'Bufferevent.socket(%o) throws ERR_INVALID_ARG and leaves the fd open',
    (options) => {
      const [a, b] = socketpair();
      expect(errorCodeOf(() => Bufferevent.socket({ fd: a, ...options } as never))).toBe('ERR_INVALID_ARG');
      expect(existsSync(`/proc/self/fd/${a}`)).toBe(true);
      closeSync(a);
      closeSync(b);
    },
  );

  it('closeOnFree: false keeps the fd open after free()', () => {
    const [a, b] = socketpair();
    Bufferevent.socket({ fd: a, closeOnFree: false }).free();
    expect(existsSync(`/proc/self/fd/${a}`)).toBe(true);
    closeSync(a);
    closeSync(b);
  });

  it('Bufferevent.filter refuses non-object sides and options and a non-boolean closeOnFree', () => {
    const [a, b] = socketpair();
    const under = Bufferevent.socket({ fd: a });
    expect(errorCodeOf(() => Bufferevent.filter(under, null as never))).toBe('ERR_INVALID_ARG');
    expect(errorCodeOf(() => Bufferevent.filter(under, {}, 'x' as never))).toBe('ERR_INVALID_ARG');
    expect(errorCodeOf(() => Bufferevent.filter(under, {}, { closeOnFree: 'no' } as never))).toBe(
      'ERR_INVALID_ARG',
    );
    under.free();
    closeSync(b);
  });

  it('Listener.listen refuses a non-boolean reusePort', () => {
    expect(errorCodeOf(() => Listener.listen({ reusePort: 'true' } as never, () => {}))).toBe(
      'ERR_INVALID_ARG',
    );
  });
});

describe('fds libevent cannot watch', () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'bufferevent-bounds-'));
  const file = path.join(directory, 'regular');
  writeFileSync(file, 'a regular file');
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('refuses a regular file or a directory in Bufferevent.socket with EPERM from fstat', () => {
    for (const fd of [openSync(file, 'r'), openSync(directory, 'r')]) {
      const error = thrownError(() => Bufferevent.socket({ fd }));
      expect(error.code).toBe('ERR_INVALID_FD');
      expect(error.systemCode).toBe('EPERM');
      expect(error.syscall).toBe('fstat');
      expect(error.message).toMatch(/regular file or directory/);
      closeSync(fd);
    }
  });

  it('refuses a closed fd with EBADF', () => {
    const [a, b] = socketpair();
    closeSync(a);
    const error = thrownError(() => Bufferevent.socket({ fd: a }));
    expect(error.code).toBe('ERR_INVALID_FD');
    expect(error.systemCode).toBe('EBADF');
    closeSync(b);
  });

  it('refuses a regular file in new Event(fd, EV.READ) but allows it for a timer-only event', () => {
    const fd = openSync(file, 'r');
    const error = thrownError(() => new Event(fd, EV.READ, () => {}));
    expect(error.code).toBe('ERR_INVALID_FD');
    expect(error.systemCode).toBe('EPERM');
    closeSync(fd);
  });
});

describe('events that could never fire', () => {
  it('refuses new Event(-1, EV.READ | EV.WRITE | EV.CLOSED) with ERR_INVALID_FD', () => {
    for (const what of [EV.READ, EV.WRITE, EV.READ | EV.PERSIST, EV.CLOSED]) {
      expect(errorCodeOf(() => new Event(-1, what, () => {}))).toBe('ERR_INVALID_FD');
    }
  });

  it('refuses add() without a timeout on an event with no fd and no signal, but runs it on activate()', async () => {
    const calls: number[] = [];
    const event = new Event(-1, EV.PERSIST, (_fd, what) => calls.push(what));
    expect(errorCodeOf(() => event.add())).toBe('ERR_INVALID_TIMEOUT');
    expect(event.pending()).toBe(false);
    expect(EventBase.default().stats().addedEvents).toBe(0);
    event.activate(EV.TIMEOUT);
    await turns(2);
    expect(calls).toEqual([EV.TIMEOUT]);
    event.free();
  });
});
