// Freeing a filter: closeOnFree frees the underlying (its fd closes, the peer reads EOF); without it the
// underlying gets its own callbacks back. While filtered, the underlying refuses setCallbacks and free.
import { describe, expect, it, vi } from 'vitest';
import { Bufferevent, RateLimitGroup } from '../../src/index.ts';
import {
  BEV,
  EV,
  openFdCount,
  socketPairBufferevents,
  turns,
  waitFor,
  errorCodeOf as codeOf,
  checkNothingLeaksAfterEach,
} from '../helpers.ts';
import { countingFilter } from './filter-helpers.ts';

checkNothingLeaksAfterEach({ fds: true });

describe('freeing a filter', () => {
  it('frees the underlying with closeOnFree (the default): freed is true and the peer reads EOF', async () => {
    const fdsBefore = openFdCount();
    const [underlying, peer] = socketPairBufferevents();
    const filter = Bufferevent.filter(underlying, {});
    const peerEvents: number[] = [];
    peer.setCallbacks({ event: (_bev, flags) => peerEvents.push(flags) });
    peer.enable(EV.READ);
    filter.free();
    expect(filter.freed).toBe(true);
    expect(underlying.freed).toBe(true);
    expect(codeOf(() => underlying.write('x'))).toBe('ERR_FREED');
    expect(codeOf(() => underlying.enable(EV.READ))).toBe('ERR_FREED');
    expect(() => underlying.free()).not.toThrow(); // idempotent
    await waitFor(() => peerEvents.length === 1, 5_000, 'the EOF at the peer');
    await turns(5);
    expect(peerEvents).toEqual([BEV.EOF | BEV.READING]);
    expect(openFdCount()).toBe(fdsBefore + 1); // only the peer's fd is left
    peer.free();
  });

  it('marks every bufferevent of a nested chain freed when the outermost filter is freed', async () => {
    const [socket, peer] = socketPairBufferevents();
    const inner = Bufferevent.filter(socket, {});
    const outer = Bufferevent.filter(inner, {});
    outer.free();
    peer.free();
    expect(inner.freed).toBe(true);
    expect(codeOf(() => socket.write('x'))).toBe('ERR_FREED'); // natively it is gone
    expect(socket.freed).toBe(true); // so the wrapper must say so too
  });

  it('leaves the underlying usable with closeOnFree: false: its own callbacks run again and it can be freed', async () => {
    const [underlying, peer] = socketPairBufferevents();
    const underlyingRead = vi.fn((bev: Bufferevent) => bev.read().toString());
    underlying.setCallbacks({ read: underlyingRead });
    const filter = Bufferevent.filter(underlying, {}, { closeOnFree: false });
    const filterRead = vi.fn((bev: Bufferevent) => bev.read().toString());
    filter.setCallbacks({ read: filterRead });
    filter.enable(EV.READ | EV.WRITE);
    peer.enable(EV.READ | EV.WRITE);
    peer.write('through the filter');
    await waitFor(() => filterRead.mock.calls.length === 1, 5_000, 'the filter reading');
    expect(filterRead.mock.results[0]!.value).toBe('through the filter');
    expect(underlyingRead).not.toHaveBeenCalled();

    filter.free();
    expect(underlying.freed).toBe(false);
    underlying.enable(EV.READ | EV.WRITE);
    peer.write('straight to the socket');
    await waitFor(() => underlyingRead.mock.calls.length === 1, 5_000, 'the underlying reading');
    expect(underlyingRead.mock.results[0]!.value).toBe('straight to the socket');
    expect(filterRead).toHaveBeenCalledTimes(1);
    // New callbacks can be set on it again, and writing still reaches the peer.
    const replaced = vi.fn();
    underlying.setCallbacks({ read: replaced });
    let atPeer = '';
    peer.setCallbacks({ read: (bev) => (atPeer += bev.read().toString()) });
    underlying.write('still connected');
    await waitFor(() => atPeer === 'still connected', 5_000, 'the peer reading');
    underlying.free();
    expect(underlying.freed).toBe(true);
    peer.free();
  });

  it('refuses setCallbacks and free on a filtered underlying with ERR_FILTERED', async () => {
    const [underlying, peer] = socketPairBufferevents();
    const filter = Bufferevent.filter(underlying, {}, { closeOnFree: false });
    expect(codeOf(() => underlying.setCallbacks({ read: () => {} }))).toBe('ERR_FILTERED');
    expect(codeOf(() => underlying.free())).toBe('ERR_FILTERED');
    expect(underlying.freed).toBe(false);
    expect(codeOf(() => Bufferevent.filter(underlying, {}))).toBe('ERR_FILTERED');
    filter.free();
    expect(() => underlying.setCallbacks({})).not.toThrow();
    underlying.free();
    peer.free();
  });

  it('keeps the callbacks a refused setCallbacks tried to replace', async () => {
    const [underlying, peer] = socketPairBufferevents();
    const original = vi.fn((bev: Bufferevent) => bev.read());
    underlying.setCallbacks({ read: original });
    const filter = Bufferevent.filter(underlying, {}, { closeOnFree: false });
    const refused = vi.fn();
    expect(codeOf(() => underlying.setCallbacks({ read: refused }))).toBe('ERR_FILTERED');
    filter.free();
    underlying.enable(EV.READ);
    peer.write('after the filter');
    await waitFor(() => original.mock.calls.length + refused.mock.calls.length > 0, 5_000, 'a read callback');
    underlying.free();
    peer.free();
    expect(refused).not.toHaveBeenCalled();
    expect(original).toHaveBeenCalledTimes(1);
  });

  it('runs no filter callback and no filter function after free, with callbacks and data pending', async () => {
    const [underlying, peer] = socketPairBufferevents();
    const input = countingFilter();
    const filter = Bufferevent.filter(underlying, { input });
    const callbacks = { read: vi.fn((bev: Bufferevent) => bev.read()), write: vi.fn(), event: vi.fn() };
    filter.setCallbacks(callbacks);
    filter.enable(EV.READ | EV.WRITE);
    peer.enable(EV.READ | EV.WRITE);
    peer.write('first');
    await waitFor(() => callbacks.read.mock.calls.length === 1, 5_000, 'the first read');
    const callsBefore = input.calls;
    peer.write('pending in the kernel');
    filter.write('queued a write callback');
    filter.trigger(EV.READ, { ignoreWatermarks: true });
    filter.triggerEvent(BEV.TIMEOUT | BEV.READING);
    filter.free();
    await turns(10);
    expect(callbacks.read).toHaveBeenCalledTimes(1);
    expect(callbacks.write).not.toHaveBeenCalled();
    expect(callbacks.event).not.toHaveBeenCalled();
    expect(input.calls).toBe(callsBefore);
    expect(codeOf(() => filter.read())).toBe('ERR_FREED');
    peer.free();
  });

  it('throws ERR_RATE_LIMIT_UNSUPPORTED for rate limits on the filter itself', () => {
    const [underlying, peer] = socketPairBufferevents();
    const filter = Bufferevent.filter(underlying, {});
    const group = new RateLimitGroup({ readRate: 1000 });
    expect(codeOf(() => filter.setRateLimit({ readRate: 1000 }))).toBe('ERR_RATE_LIMIT_UNSUPPORTED');
    expect(codeOf(() => filter.getReadLimit())).toBe('ERR_RATE_LIMIT_UNSUPPORTED');
    expect(codeOf(() => group.add(filter))).toBe('ERR_RATE_LIMIT_UNSUPPORTED');
    // The underlying socket can be limited instead.
    expect(() => underlying.setRateLimit({ readRate: 1000 })).not.toThrow();
    group.free();
    filter.free();
    peer.free();
  });
});
