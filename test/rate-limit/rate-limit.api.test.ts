// Rate-limit API without timing: bucket values, argument checks, group membership and totals.
import { describe, expect, it } from 'vitest';
import { Bufferevent, RateLimitGroup, socketpair, type SocketOptions } from '../../src/index.ts';
import {
  EV,
  socketPairBufferevents,
  waitFor,
  errorCodeOf as codeOf,
  checkNothingLeaksAfterEach,
} from '../helpers.ts';

// libevent's answer for "no limit": EV_SSIZE_MAX, as a JavaScript number.
const UNLIMITED = 2 ** 63;

checkNothingLeaksAfterEach();

describe('Bufferevent rate limits', () => {
  it('reports no limit before setRateLimit and after setRateLimit(null)', () => {
    const [bev, peer] = socketPairBufferevents();
    expect(bev.getReadLimit()).toBe(UNLIMITED);
    expect(bev.getWriteLimit()).toBe(UNLIMITED);
    bev.setRateLimit({ readRate: 65536, readBurst: 65536 });
    bev.setRateLimit(null);
    expect(bev.getReadLimit()).toBe(UNLIMITED);
    expect(codeOf(() => bev.decrementReadLimit(1))).toBe('ERR_NO_RATE_LIMIT');
    bev.free();
    peer.free();
  });

  it('starts the read bucket at one tick of the rate (libevent), leaving the unlimited direction unlimited', () => {
    const [bev, peer] = socketPairBufferevents();
    bev.setRateLimit({ readRate: 65536, readBurst: 65536 }); // tickMs 100: 6553 bytes per tick
    expect(bev.getReadLimit()).toBe(6553);
    expect(bev.getWriteLimit()).toBe(UNLIMITED);
    bev.setRateLimit({ writeRate: 20_000, tickMs: 1000 });
    expect(bev.getWriteLimit()).toBe(20_000);
    bev.free();
    peer.free();
  });

  it('takes bytes out of the buckets with decrementReadLimit/decrementWriteLimit (negative adds)', () => {
    const [bev, peer] = socketPairBufferevents();
    bev.setRateLimit({ readRate: 10_000, writeRate: 10_000, tickMs: 1000 });
    bev.decrementReadLimit(1000);
    expect(bev.getReadLimit()).toBe(9000);
    bev.decrementReadLimit(-500);
    expect(bev.getReadLimit()).toBe(9500);
    bev.decrementWriteLimit(12_000);
    expect(bev.getWriteLimit()).toBe(-2000);
    bev.free();
    peer.free();
  });

  it('throws ERR_NO_RATE_LIMIT for decrements without a limit', () => {
    const [bev, peer] = socketPairBufferevents();
    expect(codeOf(() => bev.decrementReadLimit(10))).toBe('ERR_NO_RATE_LIMIT');
    expect(codeOf(() => bev.decrementWriteLimit(10))).toBe('ERR_NO_RATE_LIMIT');
    bev.free();
    peer.free();
  });

  it('rejects bad limits with ERR_INVALID_RATE_LIMIT and keeps the previous limit', () => {
    const [bev, peer] = socketPairBufferevents();
    bev.setRateLimit({ readRate: 10_000, tickMs: 1000 });
    const bad: unknown[] = [
      { readRate: 0 },
      { readRate: -1 },
      { readRate: Number.NaN },
      { readRate: Infinity },
      { readRate: '1000' },
      { readBurst: 1000 },
      { writeBurst: 1000 },
      { readRate: 1000, tickMs: 0 },
      'fast',
    ];
    for (const limit of bad) {
      expect(codeOf(() => bev.setRateLimit(limit as never))).toBe('ERR_INVALID_RATE_LIMIT');
    }
    expect(bev.getReadLimit()).toBe(10_000);
    expect(codeOf(() => new RateLimitGroup({ readRate: -5 }))).toBe('ERR_INVALID_RATE_LIMIT');
    bev.free();
    peer.free();
  });

  it('throws ERR_FREED for the rate-limit methods of a freed bufferevent', () => {
    const [bev, peer] = socketPairBufferevents();
    bev.free();
    expect(codeOf(() => bev.setRateLimit({ readRate: 1000 }))).toBe('ERR_FREED');
    expect(codeOf(() => bev.getReadLimit())).toBe('ERR_FREED');
    expect(codeOf(() => bev.decrementWriteLimit(1))).toBe('ERR_FREED');
    peer.free();
  });
});

describe('RateLimitGroup membership', () => {
  it('counts members through add, a repeated add, remove and a member being freed', () => {
    const group = new RateLimitGroup({ readRate: 1_000_000 });
    const [a, b] = socketPairBufferevents();
    expect(group.totals).toEqual({ read: 0, written: 0, members: 0 });
    group.add(a).add(b);
    group.add(a); // already a member: no change
    expect(group.totals.members).toBe(2);
    group.remove(a);
    group.remove(a); // not a member any more: no change
    expect(group.totals.members).toBe(1);
    b.free();
    expect(group.totals.members).toBe(0);
    a.free();
    group.free();
  });

  it('refuses a bufferevent that belongs to another group with ERR_RATE_LIMIT_GROUP', () => {
    const first = new RateLimitGroup({ readRate: 1_000_000 });
    const second = new RateLimitGroup({ readRate: 1_000_000 });
    const [a, b] = socketPairBufferevents();
    first.add(a);
    expect(codeOf(() => second.add(a))).toBe('ERR_RATE_LIMIT_GROUP');
    expect(second.totals.members).toBe(0);
    first.remove(a);
    second.add(a);
    expect(second.totals.members).toBe(1);
    first.free();
    second.free();
    a.free();
    b.free();
  });

  it('throws ERR_FREED after free(), which is idempotent and releases the members', async () => {
    const group = new RateLimitGroup({ readRate: 1000, tickMs: 1000 });
    const [a, b] = socketPairBufferevents();
    group.add(a);
    group.free();
    group.free();
    expect(codeOf(() => group.add(b))).toBe('ERR_FREED');
    expect(codeOf(() => group.totals)).toBe('ERR_FREED');
    expect(codeOf(() => group.setRate({ readRate: 1 }))).toBe('ERR_FREED');
    // The former member is no longer limited: 256 KiB arrive quickly (at 1000 B/s they would take minutes).
    let received = 0;
    a.setCallbacks({ read: (bev) => (received += bev.read().length) });
    a.enable(EV.READ);
    b.enable(EV.WRITE);
    b.write(Buffer.alloc(256 * 1024, 1));
    await waitFor(() => received === 256 * 1024, 5_000, '256 KiB');
    a.free();
    b.free();
  });
});

describe.each<[string, SocketOptions]>([
  ['libevent I/O', {}],
  ['larger reads and write-through', { maxReadPerWakeup: 65536, writeThrough: true }],
])('RateLimitGroup totals with %s', (_name, options) => {
  it('add up to the bytes the members read and wrote', async () => {
    const group = new RateLimitGroup({ readRate: 64 * 1024 * 1024, writeRate: 64 * 1024 * 1024 });
    const members: Bufferevent[] = [];
    const peers: Bufferevent[] = [];
    let read = 0;
    let peerRead = 0;
    let written = 0;
    for (let i = 0; i < 4; i++) {
      const [mine, theirs] = socketpair();
      const member = Bufferevent.socket({ fd: mine, ...options });
      const peer = Bufferevent.socket({ fd: theirs });
      group.add(member);
      member.setCallbacks({ read: (bev) => (read += bev.read().length) });
      peer.setCallbacks({ read: (bev) => (peerRead += bev.read().length) });
      member.enable(EV.READ | EV.WRITE);
      peer.enable(EV.READ | EV.WRITE);
      peer.write(Buffer.alloc(50_000 * (i + 1), i));
      member.write(Buffer.alloc(30_000 * (i + 1), i));
      written += 30_000 * (i + 1);
      members.push(member);
      peers.push(peer);
    }
    await waitFor(() => read === 500_000 && peerRead === written, 10_000, 'all transfers');
    expect(group.totals).toEqual({ read: 500_000, written: 300_000, members: 4 });
    group.resetTotals();
    expect(group.totals).toEqual({ read: 0, written: 0, members: 4 });
    for (const bev of [...members, ...peers]) bev.free();
    group.free();
  });
});
