// Rate limits over time (one file, so these timing tests never run alongside each other): per bufferevent
// read and write rates, a shared group rate, and removing or changing a limit. Bounds are generous: the
// lower ones follow from the token bucket (it never holds more than the burst), the upper ones only
// catch a limit that never lets go.
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bufferevent, RateLimitGroup, socketpair, type SocketOptions } from '../../src/index.ts';
import { EV, liveCounts, turns, waitFor } from '../helpers.ts';

const KiB = 1024;
const TICK_MS = 100;
const UPPER_MS = 15_000;

let start: ReturnType<typeof liveCounts>;
// Everything a test creates, freed after it even when an assertion failed first (free() is idempotent).
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

function pattern(size: number, seed: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 13 + seed + (i >>> 10)) & 0xff;
  return data;
}

/** `limited` on one end of a socket pair, an unlimited plain bufferevent on the other. */
function limitedAndPeer(options: SocketOptions = {}): { limited: Bufferevent; peer: Bufferevent } {
  const [mine, theirs] = socketpair();
  return {
    limited: track(Bufferevent.socket({ fd: mine, ...options })),
    peer: track(Bufferevent.socket({ fd: theirs })),
  };
}

/** Collects what `bev` reads; `received()` is the byte count, `data()` the bytes. */
function collect(bev: Bufferevent) {
  const chunks: Buffer[] = [];
  let bytes = 0;
  bev.setCallbacks({
    read(self) {
      const chunk = self.read();
      chunks.push(chunk);
      bytes += chunk.length;
    },
  });
  bev.enable(EV.READ | EV.WRITE);
  return { received: () => bytes, data: () => Buffer.concat(chunks) };
}

const fastPathVariants: [string, SocketOptions][] = [
  ['libevent I/O', {}],
  ['the fast paths (maxReadPerWakeup 65536, writeThrough)', { maxReadPerWakeup: 65536, writeThrough: true }],
];

describe.each(fastPathVariants)('a per-bufferevent rate limit with %s', (_name, options) => {
  it('takes at least (256 − 64) KiB at 64 KiB/s minus one tick to read 256 KiB', async () => {
    const { limited, peer } = limitedAndPeer(options);
    limited.setRateLimit({ readRate: 64 * KiB, readBurst: 64 * KiB, tickMs: TICK_MS });
    const began = performance.now();
    const reader = collect(limited);
    const data = pattern(256 * KiB, 1);
    peer.enable(EV.WRITE);
    peer.write(data);
    await waitFor(() => reader.received() === data.length, UPPER_MS, '256 KiB');
    const elapsed = performance.now() - began;
    expect(elapsed).toBeGreaterThanOrEqual(3000 - TICK_MS);
    expect(elapsed).toBeLessThan(UPPER_MS);
    expect(reader.data().equals(data)).toBe(true);
    limited.free();
    peer.free();
  });

  it('takes at least (256 − 64) KiB at 64 KiB/s minus one tick to write 256 KiB', async () => {
    const { limited, peer } = limitedAndPeer(options);
    limited.setRateLimit({ writeRate: 64 * KiB, writeBurst: 64 * KiB, tickMs: TICK_MS });
    const reader = collect(peer);
    limited.enable(EV.READ | EV.WRITE);
    const data = pattern(256 * KiB, 2);
    const began = performance.now();
    limited.write(data);
    await waitFor(() => reader.received() === data.length, UPPER_MS, '256 KiB at the peer');
    const elapsed = performance.now() - began;
    expect(elapsed).toBeGreaterThanOrEqual(3000 - TICK_MS);
    expect(elapsed).toBeLessThan(UPPER_MS);
    expect(reader.data().equals(data)).toBe(true);
    limited.free();
    peer.free();
  });
});

describe('per-bufferevent limits changing', () => {
  it('reads at full speed once setRateLimit(null) removes a slow limit', async () => {
    const { limited, peer } = limitedAndPeer();
    limited.setRateLimit({ readRate: 16 * KiB, readBurst: 16 * KiB, tickMs: TICK_MS });
    const began = performance.now();
    const reader = collect(limited);
    peer.enable(EV.WRITE);
    peer.write(pattern(512 * KiB, 3));
    await new Promise((resolve) => setTimeout(resolve, 300)); // a span of time, not a wait for an event
    const seconds = (performance.now() - began) / 1000;
    expect(reader.received()).toBeLessThanOrEqual(16 * KiB + 16 * KiB * (seconds + TICK_MS / 1000));
    const removedAt = performance.now();
    limited.setRateLimit(null);
    await waitFor(() => reader.received() === 512 * KiB, UPPER_MS, 'the rest');
    // At 16 KiB/s the rest would take about 30 s.
    expect(performance.now() - removedAt).toBeLessThan(5000);
    limited.free();
    peer.free();
  });

  it('suspends reading after decrementReadLimit empties the bucket, until ticks refill it', async () => {
    const { limited, peer } = limitedAndPeer();
    limited.setRateLimit({ readRate: 64 * KiB, tickMs: TICK_MS }); // 6553 bytes per tick, burst one tick
    const perTick = limited.getReadLimit();
    expect(perTick).toBe(6553);
    limited.decrementReadLimit(10 * perTick); // the bucket is now -9 ticks' worth
    expect(limited.getReadLimit()).toBeLessThanOrEqual(-8 * perTick);
    const began = performance.now();
    const reader = collect(limited);
    peer.enable(EV.WRITE);
    peer.write('after the refill');
    await waitFor(() => reader.received() === 16, 5_000, 'the bytes'); // about 1 s: 9 ticks of refill
    const elapsed = performance.now() - began;
    expect(elapsed).toBeGreaterThanOrEqual(8 * TICK_MS);
    expect(elapsed).toBeLessThan(UPPER_MS);
    limited.free();
    peer.free();
  });
});

describe('a RateLimitGroup', () => {
  it('limits four members to the group rate together, not each to the rate', async () => {
    const rate = 128 * KiB;
    const burst = 32 * KiB;
    const perMember = 128 * KiB;
    const created = performance.now();
    const group = track(new RateLimitGroup({ readRate: rate, readBurst: burst, tickMs: TICK_MS }));
    const pairs = [0, 1, 2, 3].map(() => limitedAndPeer());
    let total = 0;
    const samples: { at: number; total: number }[] = [];
    for (const { limited, peer } of pairs) {
      group.add(limited);
      limited.setCallbacks({
        read(self) {
          total += self.read().length;
          samples.push({ at: performance.now(), total });
        },
      });
      limited.enable(EV.READ);
      peer.enable(EV.WRITE);
    }
    const began = performance.now();
    pairs.forEach(({ peer }, i) => peer.write(pattern(perMember, 10 + i)));
    await waitFor(() => total === 4 * perMember, UPPER_MS, '512 KiB across the group');
    const elapsed = performance.now() - began;
    // Each member alone at 128 KiB/s would finish in under a second.
    expect(elapsed).toBeGreaterThanOrEqual(((4 * perMember - burst) / rate) * 1000 - TICK_MS);
    expect(elapsed).toBeLessThan(UPPER_MS);
    // At no moment did the members together get ahead of the group's bucket.
    for (const sample of samples) {
      const allowed = burst + (rate * (sample.at - created + TICK_MS)) / 1000 + 16 * KiB;
      expect(sample.total).toBeLessThanOrEqual(allowed);
    }
    expect(group.totals).toEqual({ read: 4 * perMember, written: 0, members: 4 });
    for (const { limited, peer } of pairs) {
      limited.free();
      peer.free();
    }
    expect(group.totals.members).toBe(0);
    group.free();
  });

  it('stops limiting a member once it is removed, while the others stay limited', async () => {
    const group = track(new RateLimitGroup({ readRate: 16 * KiB, readBurst: 16 * KiB, tickMs: TICK_MS }));
    const kept = limitedAndPeer();
    const removed = limitedAndPeer();
    group.add(kept.limited).add(removed.limited);
    group.remove(removed.limited);
    expect(group.totals.members).toBe(1);
    const keptReader = collect(kept.limited);
    const removedReader = collect(removed.limited);
    kept.peer.enable(EV.WRITE);
    removed.peer.enable(EV.WRITE);
    const began = performance.now();
    kept.peer.write(pattern(256 * KiB, 20));
    removed.peer.write(pattern(512 * KiB, 21));
    await waitFor(() => removedReader.received() === 512 * KiB, UPPER_MS, 'the removed member');
    // At 16 KiB/s, 512 KiB would take about 30 s.
    expect(performance.now() - began).toBeLessThan(5000);
    const seconds = (performance.now() - began) / 1000;
    expect(keptReader.received()).toBeLessThanOrEqual(
      16 * KiB + 16 * KiB * (seconds + TICK_MS / 1000) + 4 * KiB,
    );
    expect(keptReader.received()).toBeLessThan(256 * KiB);
    expect(group.totals.read).toBe(keptReader.received()); // the removed member's bytes are not the group's
    for (const bev of [kept.limited, kept.peer, removed.limited, removed.peer]) bev.free();
    group.free();
  });

  it('reads at the new rate after setRate raises it', async () => {
    const group = track(new RateLimitGroup({ readRate: 16 * KiB, readBurst: 16 * KiB, tickMs: TICK_MS }));
    const { limited, peer } = limitedAndPeer();
    group.add(limited);
    const began = performance.now();
    const reader = collect(limited);
    peer.enable(EV.WRITE);
    peer.write(pattern(512 * KiB, 30));
    await new Promise((resolve) => setTimeout(resolve, 300)); // a span of time, not a wait for an event
    const seconds = (performance.now() - began) / 1000;
    expect(reader.received()).toBeLessThanOrEqual(16 * KiB + 16 * KiB * (seconds + TICK_MS / 1000) + 4 * KiB);
    const raisedAt = performance.now();
    group.setRate({ readRate: 64 * 1024 * KiB, readBurst: 64 * 1024 * KiB, tickMs: TICK_MS });
    await waitFor(() => reader.received() === 512 * KiB, UPPER_MS, 'the rest');
    expect(performance.now() - raisedAt).toBeLessThan(5000);
    limited.free();
    peer.free();
    group.free();
  });

  it('reads no faster than the new rate after setRate lowers it', async () => {
    const group = track(
      new RateLimitGroup({ readRate: 64 * 1024 * KiB, readBurst: 64 * 1024 * KiB, tickMs: TICK_MS }),
    );
    const { limited, peer } = limitedAndPeer();
    group.add(limited);
    const reader = collect(limited);
    peer.enable(EV.WRITE);
    peer.write(pattern(64 * KiB, 40));
    await waitFor(() => reader.received() === 64 * KiB, UPPER_MS, 'the fast part');
    group.setRate({ readRate: 64 * KiB, readBurst: 64 * KiB, tickMs: TICK_MS });
    const began = performance.now();
    peer.write(pattern(192 * KiB, 41));
    await waitFor(() => reader.received() === 256 * KiB, UPPER_MS, 'the slow part');
    const elapsed = performance.now() - began;
    expect(elapsed).toBeGreaterThanOrEqual(((192 - 64) / 64) * 1000 - TICK_MS);
    expect(elapsed).toBeLessThan(UPPER_MS);
    limited.free();
    peer.free();
    group.free();
  });
});
