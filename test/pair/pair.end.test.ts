// Pairs: ending with flush(BEV.FINISHED), freeing one half (the other gets EOF once) and what is refused.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Bufferevent, RateLimitGroup } from '../../src/index.ts';
import { BEV, EV, liveCounts, turns, waitFor, errorCodeOf as codeOf } from '../helpers.ts';

let start: ReturnType<typeof liveCounts>;
beforeEach(() => {
  start = liveCounts();
});
afterEach(async () => {
  await turns(2);
  expect(liveCounts()).toEqual(start);
});

describe('ending a pair', () => {
  it('gives b the pending data and then EOF | READING when a flushes with BEV.FINISHED', async () => {
    const [a, b] = Bufferevent.pair();
    const log: string[] = [];
    b.setCallbacks({
      read: (bev) => log.push(`read:${bev.read().toString()}`),
      event: (_bev, events) => log.push(`event:${events}`),
    });
    const aEvents = vi.fn();
    a.setCallbacks({ event: aEvents });
    a.enable(EV.READ | EV.WRITE);
    b.enable(EV.READ | EV.WRITE);
    a.write('the end');
    a.flush(EV.WRITE, BEV.FINISHED);
    expect(log).toEqual([]); // deferred: nothing inside flush()
    await waitFor(() => log.length === 2, 5_000, 'data and EOF');
    await turns(5);
    expect(log).toEqual(['read:the end', `event:${BEV.EOF | BEV.READING}`]);
    expect(aEvents).not.toHaveBeenCalled();
    a.free();
    b.free();
  });

  it('delivers EOF | READING to the partner exactly once when one half is freed', async () => {
    const [a, b] = Bufferevent.pair();
    const events: number[] = [];
    b.setCallbacks({ event: (_bev, flags) => events.push(flags) });
    b.enable(EV.READ | EV.WRITE);
    a.free();
    expect(events).toEqual([]);
    await waitFor(() => events.length === 1, 5_000, 'the EOF');
    await turns(10);
    expect(events).toEqual([BEV.EOF | BEV.READING]);
    expect(b.enabled & EV.READ).toBe(0);
    expect(b.freed).toBe(false);
    b.free();
  });

  it('delivers the data written just before the partner was freed, then the EOF', async () => {
    const [a, b] = Bufferevent.pair();
    const log: string[] = [];
    b.setCallbacks({
      read: (bev) => log.push(`read:${bev.read().toString()}`),
      event: (_bev, flags) => log.push(`event:${flags}`),
    });
    a.enable(EV.WRITE);
    b.enable(EV.READ);
    a.write('last words');
    a.free();
    await waitFor(() => log.length === 2, 5_000, 'data and EOF');
    await turns(5);
    expect(log).toEqual(['read:last words', `event:${BEV.EOF | BEV.READING}`]);
    b.free();
  });

  it('refuses write() and flush() on the surviving half with ERR_PARTNER_FREED', async () => {
    const [a, b] = Bufferevent.pair();
    const events = vi.fn();
    b.setCallbacks({ event: events });
    b.enable(EV.READ | EV.WRITE);
    a.free();
    await waitFor(() => events.mock.calls.length === 1, 5_000, 'the EOF');
    expect(codeOf(() => b.write('into the void'))).toBe('ERR_PARTNER_FREED');
    expect(codeOf(() => b.flush(EV.WRITE, BEV.FLUSH))).toBe('ERR_PARTNER_FREED');
    expect(codeOf(() => b.flush(EV.WRITE, BEV.FINISHED))).toBe('ERR_PARTNER_FREED');
    expect(b.output.length).toBe(0);
    // The half itself is still usable: reading its (empty) input and freeing it work.
    expect(b.read().length).toBe(0);
    b.free();
    expect(codeOf(() => b.write('x'))).toBe('ERR_FREED');
    expect(events).toHaveBeenCalledTimes(1);
  });

  it('runs no callback of a freed half, even with data and a write callback pending', async () => {
    const [a, b] = Bufferevent.pair();
    const aCallbacks = { read: vi.fn(), write: vi.fn(), event: vi.fn() };
    a.setCallbacks(aCallbacks);
    a.enable(EV.READ | EV.WRITE);
    b.enable(EV.READ | EV.WRITE);
    a.write('queued a write callback');
    b.write('queued a read callback');
    expect(a.input.length).toBe(22);
    a.free();
    await turns(10);
    expect(aCallbacks.read).not.toHaveBeenCalled();
    expect(aCallbacks.write).not.toHaveBeenCalled();
    expect(aCallbacks.event).not.toHaveBeenCalled();
    expect(codeOf(() => a.read())).toBe('ERR_FREED');
    expect(codeOf(() => a.partner!.write('x'))).toBe('ERR_PARTNER_FREED');
    b.free();
  });

  it('sends no EOF to a half that was freed first, when the second half is freed', async () => {
    const [a, b] = Bufferevent.pair();
    const aEvents = vi.fn();
    const bEvents = vi.fn();
    a.setCallbacks({ event: aEvents });
    b.setCallbacks({ event: bEvents });
    a.free();
    b.free();
    await turns(10);
    expect(aEvents).not.toHaveBeenCalled();
    expect(bEvents).not.toHaveBeenCalled();
  });
});

describe('rate limits on a pair', () => {
  it('throw ERR_RATE_LIMIT_UNSUPPORTED from setRateLimit and the limit getters', () => {
    const [a, b] = Bufferevent.pair();
    expect(codeOf(() => a.setRateLimit({ readRate: 1000 }))).toBe('ERR_RATE_LIMIT_UNSUPPORTED');
    expect(codeOf(() => a.setRateLimit(null))).toBe('ERR_RATE_LIMIT_UNSUPPORTED');
    expect(codeOf(() => b.getReadLimit())).toBe('ERR_RATE_LIMIT_UNSUPPORTED');
    expect(codeOf(() => b.getWriteLimit())).toBe('ERR_RATE_LIMIT_UNSUPPORTED');
    expect(codeOf(() => b.decrementReadLimit(1))).toBe('ERR_RATE_LIMIT_UNSUPPORTED');
    a.free();
    b.free();
  });

  it('cannot join a RateLimitGroup (ERR_RATE_LIMIT_UNSUPPORTED)', () => {
    const [a, b] = Bufferevent.pair();
    const group = new RateLimitGroup({ readRate: 1000 });
    expect(codeOf(() => group.add(a))).toBe('ERR_RATE_LIMIT_UNSUPPORTED');
    expect(group.totals).toEqual({ read: 0, written: 0, members: 0 });
    group.free();
    a.free();
    b.free();
  });
});
