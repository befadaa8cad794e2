// Rate-limit refills are libevent-internal timers: while they tick with nothing to do, every other libevent
// timer (raw events, bufferevent timeouts) must keep firing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Event, RateLimitGroup } from '../../src/index.ts';
import { BEV, EV, liveCounts, socketPairBufferevents, turns, waitFor } from '../helpers.ts';

let start: ReturnType<typeof liveCounts>;
const created: { free(): void }[] = [];
function track<T extends { free(): void }>(resource: T): T {
  created.push(resource);
  return resource;
}
beforeEach(() => {
  start = liveCounts();
});
afterEach(async () => {
  for (const resource of created.splice(0)) resource.free();
  await turns(3);
  expect(liveCounts()).toEqual(start);
});

describe('an idle RateLimitGroup', () => {
  it('leaves a persistent 30 ms Event.timer firing', async () => {
    track(new RateLimitGroup({ readRate: 1000, tickMs: 50 }));
    let ticks = 0;
    track(Event.timer(30, () => ticks++, { persist: true }));
    // About 33 per second without a group; 10 is a generous floor.
    await waitFor(() => ticks >= 10, 5_000, 'ten timer ticks');
    expect(ticks).toBeGreaterThanOrEqual(10);
  });

  it('leaves a bufferevent read timeout firing', async () => {
    track(new RateLimitGroup({ readRate: 1000, tickMs: 50 }));
    const [bev, peer] = socketPairBufferevents();
    track(bev);
    track(peer);
    const events: number[] = [];
    bev.setCallbacks({ event: (_bev, flags) => events.push(flags) });
    bev.setTimeouts({ read: 300 });
    bev.enable(EV.READ);
    await waitFor(() => events.length === 1, 5_000, 'the read timeout');
    expect(events).toEqual([BEV.TIMEOUT | BEV.READING]);
  });
});

describe('a member whose bucket went deeply negative', () => {
  it('leaves a persistent 30 ms Event.timer firing while its bucket refills over several ticks', async () => {
    const [bev, peer] = socketPairBufferevents();
    track(bev);
    track(peer);
    bev.setRateLimit({ readRate: 64 * 1024, tickMs: 100 });
    bev.enable(EV.READ);
    bev.decrementReadLimit(10 * 6553); // about 9 ticks of refill before reading resumes
    let ticks = 0;
    track(Event.timer(30, () => ticks++, { persist: true }));
    await waitFor(() => ticks >= 10, 5_000, 'ten timer ticks');
    expect(ticks).toBeGreaterThanOrEqual(10);
  });
});
