// libevent timers driven from Node's loop: never early, ordered against Node's own timers, persistent until deleted.
import { describe, expect, it } from 'vitest';
import { EV, Event } from '../../src/index.ts';
import { liveCounts, turns, waitFor } from '../helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Event.timer inside Node', () => {
  it('never fires before its delay has elapsed, measured with performance.now()', async () => {
    const before = liveCounts();
    const delays = [1, 5, 20, 50, 120];
    const elapsed = new Map<number, number>();
    const flags: number[] = [];
    const timers = delays.map((ms) => {
      const start = performance.now();
      return Event.timer(ms, (fd, what) => {
        elapsed.set(ms, performance.now() - start);
        flags.push(what);
        expect(fd).toBe(-1);
      });
    });
    await waitFor(() => elapsed.size === delays.length, 10_000, 'every timer');
    for (const ms of delays) expect(elapsed.get(ms)).toBeGreaterThanOrEqual(ms);
    expect(flags).toEqual(delays.map(() => EV.TIMEOUT));
    // A one-shot timer is no longer pending once it fired.
    expect(timers.map((timer) => timer.pending())).toEqual(delays.map(() => false));
    for (const timer of timers) timer.free();
    expect(liveCounts()).toEqual(before);
  });

  it('never fires early when added from inside a libevent callback that ran for a while', async () => {
    // libevent caches the time while it runs callbacks; a timer added after 60 ms of work must still
    // count its delay from the moment it was added (Node's own setTimeout does).
    let elapsed: number | undefined;
    const inner: Event[] = [];
    const outer = Event.timer(1, () => {
      const busyUntil = performance.now() + 60;
      while (performance.now() < busyUntil) {
        // keep the callback busy so libevent's cached time falls behind
      }
      const start = performance.now();
      inner.push(Event.timer(50, () => (elapsed = performance.now() - start)));
    });
    await waitFor(() => elapsed !== undefined, 10_000, 'the inner timer');
    expect(elapsed).toBeGreaterThanOrEqual(50);
    outer.free();
    for (const timer of inner) timer.free();
  });

  it('fires after Node timers with smaller delays and before Node timers with larger ones', async () => {
    // Delays 100 ms apart so a stalled loop (GC, a busy core) cannot swap neighbours: a stall longer
    // than the gap would make Node's timer phase run both due Node timers before libevent's pass.
    // The order is asserted, never the time.
    const delays = [220, 20, 120, 320];
    const log: string[] = [];
    const timers: Event[] = [];
    for (const ms of delays) {
      timers.push(Event.timer(ms, () => log.push(`libevent ${ms}`)));
      setTimeout(() => log.push(`node ${ms}`), ms);
    }
    await waitFor(() => log.length === delays.length * 2, 10_000, 'all timers');
    for (const ms of delays) {
      const libeventAt = log.indexOf(`libevent ${ms}`);
      for (const other of delays) {
        const nodeAt = log.indexOf(`node ${other}`);
        if (other < ms) expect(nodeAt, `node ${other} before libevent ${ms}`).toBeLessThan(libeventAt);
        if (other > ms) expect(nodeAt, `node ${other} after libevent ${ms}`).toBeGreaterThan(libeventAt);
      }
    }
    // libevent's own timers fire in deadline order.
    expect(log.filter((entry) => entry.startsWith('libevent'))).toEqual([
      'libevent 20',
      'libevent 120',
      'libevent 220',
      'libevent 320',
    ]);
    for (const timer of timers) timer.free();
  });

  it('fires a persistent timer repeatedly and never after del()', async () => {
    let fired = 0;
    const timer = Event.timer(
      10,
      (_fd, what) => {
        fired++;
        expect(what).toBe(EV.TIMEOUT);
      },
      { persist: true },
    );
    await waitFor(() => fired >= 3, 10_000, 'three firings');
    expect(timer.pending(EV.TIMEOUT)).toBe(true);
    timer.del();
    expect(timer.pending()).toBe(false);
    const afterDel = fired;
    await sleep(80); // eight periods: nothing may fire
    expect(fired).toBe(afterDel);
    // add() with the period restarts it.
    timer.add(10);
    await waitFor(() => fired >= afterDel + 2, 10_000, 'firings after add()');
    timer.free();
    expect(timer.freed).toBe(true);
    const afterFree = fired;
    await sleep(80);
    expect(fired).toBe(afterFree);
  });

  it('runs no callback for a timer freed before its deadline and releases it at once', async () => {
    const before = liveCounts();
    let fired = 0;
    const timer = Event.timer(20, () => fired++);
    expect(liveCounts().events).toBe(before.events + 1);
    timer.free();
    expect(liveCounts()).toEqual(before);
    await sleep(60);
    await turns(2);
    expect(fired).toBe(0);
    expect(() => timer.add(5)).toThrow(expect.objectContaining({ code: 'ERR_FREED' }));
  });
});
