// The decisions of the burst memory reducer (src/websocket/burst-memory.ts) with a young generation
// and a clock of the test's own: when a burst counts, when it has ended, when the young generation
// counts as grown, retries while V8 ignores a request, and the gap between requests. The servers'
// use of it, against the real V8, is test/websocket/burst-memory.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BURST_SETTINGS,
  BurstMemoryReducer,
  type YoungGenerationHooks,
} from '../../src/websocket/burst-memory.ts';

const MiB = 1024 * 1024;
const INTERVAL = BURST_SETTINGS.intervalMs;

/** A young generation that V8 shrinks to `restsAt` from the `shrinkOnRequest`-th request on, and a clock. */
class FakeV8 implements YoungGenerationHooks {
  young = 16 * MiB;
  restsAt = 1 * MiB;
  requests = 0;
  /** V8 ignores the requests before this one (it was marking already); 0: it ignores all. */
  shrinkOnRequest = 1;
  youngGenerationBytes(): number {
    return this.young;
  }
  requestReduction(): void {
    this.requests++;
    if (this.shrinkOnRequest > 0 && this.requests >= this.shrinkOnRequest) this.young = this.restsAt;
  }
  now(): number {
    return Date.now();
  }
  releases = 0;
  releaseFreeMemory(): void {
    this.releases++;
  }
}

/** `count` handshakes spread evenly over `ms` (fake time). */
function handshakes(reducer: BurstMemoryReducer, count: number, ms: number): void {
  const step = ms / count;
  for (let i = 0; i < count; i++) {
    reducer.noteHandshake();
    vi.advanceTimersByTime(step);
  }
}

/** A burst well above every threshold: 3,000 handshakes at 2,000 a second. */
function burst(reducer: BurstMemoryReducer): void {
  handshakes(reducer, 3000, 1500);
}

function quiet(ms = 3 * INTERVAL): void {
  vi.advanceTimersByTime(ms);
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the burst memory reducer', () => {
  it('asks once, after a burst ends, and counts the reduction once the young generation is down', () => {
    const v8 = new FakeV8();
    const reducer = new BurstMemoryReducer(v8);
    burst(reducer);
    expect(v8.requests).toBe(0); // not while the burst goes on
    quiet();
    expect(v8.requests).toBe(1);
    expect(v8.releases).toBe(1);
    expect(reducer.reductions).toBe(1);
    quiet(10 * INTERVAL);
    expect(v8.requests).toBe(1);
    expect(reducer.handshakes).toBe(3000);
  });

  it('leaves a burst of fewer than 1,000 handshakes alone', () => {
    const v8 = new FakeV8();
    const reducer = new BurstMemoryReducer(v8);
    handshakes(reducer, 900, 450);
    quiet();
    expect(v8.requests).toBe(0);
  });

  it('never counts a steady trickle as a burst, however long it goes on', () => {
    const v8 = new FakeV8();
    const reducer = new BurstMemoryReducer(v8);
    // 100 a second (below the 128 of a burst) for 200 s: 20,000 handshakes, with pauses.
    for (let round = 0; round < 20; round++) {
      handshakes(reducer, 1000, 10_000);
      quiet(2 * INTERVAL);
    }
    expect(reducer.handshakes).toBe(20_000);
    expect(v8.requests).toBe(0);
  });

  it('does not ask while a burst goes on, even a long one with slow intervals of its own', () => {
    const v8 = new FakeV8();
    const reducer = new BurstMemoryReducer(v8);
    for (let second = 0; second < 30; second++) handshakes(reducer, 200, 1000);
    expect(v8.requests).toBe(0);
    quiet();
    expect(v8.requests).toBe(1);
  });

  it('leaves a young generation that has not grown past 4 MiB', () => {
    const v8 = new FakeV8();
    v8.young = 4 * MiB;
    const reducer = new BurstMemoryReducer(v8);
    burst(reducer);
    quiet();
    expect(v8.requests).toBe(0);
  });

  it('asks again, an interval later, while V8 ignores the request (it was marking already)', () => {
    const v8 = new FakeV8();
    v8.shrinkOnRequest = 3;
    const reducer = new BurstMemoryReducer(v8);
    burst(reducer);
    quiet(10 * INTERVAL);
    expect(v8.requests).toBe(3);
    expect(reducer.reductions).toBe(1);
    expect(v8.releases).toBe(1); // the native memory goes back once, with the first request
  });

  it('gives up after 3 s of requests, and then leaves that size alone until it doubles', () => {
    const v8 = new FakeV8();
    v8.shrinkOnRequest = 0; // V8 keeps it: live young data, or --min-semi-space-size
    const reducer = new BurstMemoryReducer(v8);
    burst(reducer);
    quiet((BURST_SETTINGS.attempts + 4) * INTERVAL);
    expect(v8.requests).toBe(BURST_SETTINGS.attempts);
    expect(reducer.reductions).toBe(0);

    vi.advanceTimersByTime(BURST_SETTINGS.minGapMs);
    burst(reducer);
    quiet();
    expect(v8.requests).toBe(BURST_SETTINGS.attempts); // 16 MiB is where it rests

    vi.advanceTimersByTime(BURST_SETTINGS.minGapMs);
    v8.young = 64 * MiB; // grown well past it, and this time V8 gives it back
    v8.shrinkOnRequest = v8.requests + 1;
    burst(reducer);
    quiet();
    expect(v8.requests).toBe(BURST_SETTINGS.attempts + 1);
    expect(reducer.reductions).toBe(1);
  });

  it('asks at most once in 30 s, however many bursts come', () => {
    const v8 = new FakeV8();
    const reducer = new BurstMemoryReducer(v8);
    burst(reducer);
    quiet();
    expect(v8.requests).toBe(1);

    v8.young = 16 * MiB; // the next burst grew it again
    burst(reducer);
    quiet();
    expect(v8.requests).toBe(1); // within 30 s of the last request

    vi.advanceTimersByTime(BURST_SETTINGS.minGapMs);
    burst(reducer);
    quiet();
    expect(v8.requests).toBe(2);
    expect(reducer.reductions).toBe(2);
  });

  it('keeps no timer once quiet, and an unreferenced one while counting', () => {
    const v8 = new FakeV8();
    const reducer = new BurstMemoryReducer(v8);
    reducer.noteHandshake();
    expect(vi.getTimerCount()).toBe(1);
    quiet();
    expect(vi.getTimerCount()).toBe(0);
  });
});
