// Pairs (bufferevent_pair_new): bytes in both directions, watermarks and deferred callbacks.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bufferevent } from '../../src/index.ts';
import { EV, liveCounts, turns, waitFor } from '../helpers.ts';

let start: ReturnType<typeof liveCounts>;
beforeEach(() => {
  start = liveCounts();
});
afterEach(async () => {
  await turns(2);
  expect(liveCounts()).toEqual(start);
});

describe('Bufferevent.pair()', () => {
  it('returns two halves of kind pair that name each other as partner', () => {
    const [a, b] = Bufferevent.pair();
    expect(a.kind).toBe('pair');
    expect(b.kind).toBe('pair');
    expect(a.partner).toBe(b);
    expect(b.partner).toBe(a);
    expect(a.underlying).toBeNull();
    expect(a.fd).toBe(-1);
    expect(liveCounts().bufferevents).toBe(start.bufferevents + 2);
    a.free();
    b.free();
  });

  it('carries bytes from a to b and from b to a', async () => {
    const [a, b] = Bufferevent.pair();
    const atA: string[] = [];
    const atB: string[] = [];
    a.setCallbacks({ read: (bev) => atA.push(bev.read().toString()) });
    b.setCallbacks({ read: (bev) => atB.push(bev.read().toString()) });
    a.enable(EV.READ | EV.WRITE);
    b.enable(EV.READ | EV.WRITE);
    a.write('from a');
    b.write('from b');
    await waitFor(() => atA.join('') === 'from b' && atB.join('') === 'from a', 5_000, 'both directions');
    a.write('second from a');
    await waitFor(() => atB.join('') === 'from asecond from a', 5_000, 'the second message');
    expect(atA.join('')).toBe('from b');
    a.free();
    b.free();
  });

  it("calls b's read only when its input reaches the read low watermark", async () => {
    const [a, b] = Bufferevent.pair();
    const lengths: number[] = [];
    b.setWatermark(EV.READ, 10);
    b.setCallbacks({ read: (bev) => lengths.push(bev.read().length) });
    a.enable(EV.WRITE);
    b.enable(EV.READ);
    a.write('12345');
    await waitFor(() => b.input.length === 5, 5_000, 'the first half');
    await turns(5);
    expect(lengths).toEqual([]);
    a.write('67890');
    await waitFor(() => lengths.length === 1, 5_000, 'the read callback');
    expect(lengths).toEqual([10]);
    a.free();
    b.free();
  });

  it('stops moving bytes into b at its read high watermark and resumes once b drains', async () => {
    const [a, b] = Bufferevent.pair();
    b.setWatermark(EV.READ, 0, 100);
    let reads = 0;
    b.setCallbacks({ read: () => reads++ });
    a.enable(EV.WRITE);
    b.enable(EV.READ);
    a.write(Buffer.alloc(1000, 0x61));
    await waitFor(() => reads >= 1, 5_000, 'the first read callback');
    await turns(5);
    // The pair moves only what b has room for; the rest waits in a's output.
    expect(b.input.length).toBe(100);
    expect(a.output.length).toBe(900);
    let total = 0;
    b.setCallbacks({ read: (bev) => (total += bev.read().length) });
    total += b.read().length;
    await waitFor(() => total === 1000, 5_000, 'the rest after draining');
    expect(a.output.length).toBe(0);
    expect(b.input.length).toBe(0);
    a.free();
    b.free();
  });

  it("calls a's write callback once its output drains to the write low watermark", async () => {
    const [a, b] = Bufferevent.pair();
    const outputAtWrite: number[] = [];
    a.setCallbacks({ write: (bev) => outputAtWrite.push(bev.output.length) });
    a.enable(EV.WRITE);
    a.write('held until b reads');
    await turns(5);
    // b is not reading: nothing moves, so the output never drained.
    expect(a.output.length).toBe(18);
    expect(outputAtWrite).toEqual([]);
    b.enable(EV.READ);
    await waitFor(() => outputAtWrite.length === 1, 5_000, 'the write callback');
    expect(outputAtWrite).toEqual([0]);
    expect(b.read().toString()).toBe('held until b reads');
    a.free();
    b.free();
  });

  it('never runs a callback inside write(), read() or enable()', async () => {
    const [a, b] = Bufferevent.pair();
    const log: string[] = [];
    a.setCallbacks({ write: () => log.push('a.write'), read: () => log.push('a.read') });
    b.setCallbacks({ read: () => log.push('b.read'), write: () => log.push('b.write') });
    a.enable(EV.READ | EV.WRITE);
    b.enable(EV.READ | EV.WRITE);
    expect(log).toEqual([]);
    a.write('ping');
    // The bytes already moved to b (the pair transfers at once), but no callback ran yet.
    expect(b.input.length).toBe(4);
    expect(log).toEqual([]);
    await waitFor(() => log.includes('b.read') && log.includes('a.write'), 5_000, 'the deferred callbacks');
    expect(b.read().toString()).toBe('ping');
    log.length = 0;
    b.write('pong');
    expect(log).toEqual([]);
    await waitFor(() => log.includes('a.read'), 5_000, 'a reading');
    expect(a.read().toString()).toBe('pong');
    a.free();
    b.free();
  });
});
