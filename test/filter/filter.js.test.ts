// JavaScript filters over a socket and over a pair: transforming, counting, holding partial records, dst_limit.
import { describe, expect, it } from 'vitest';
import { Bufferevent, type EvBuffer } from '../../src/index.ts';
import { EV, turns, waitFor, checkNothingLeaksAfterEach } from '../helpers.ts';
import {
  countingFilter,
  pattern,
  recordFilter,
  underlyingKinds,
  upperAscii,
  uppercaseFilter,
} from './filter-helpers.ts';

checkNothingLeaksAfterEach();

describe.each(underlyingKinds)('a JavaScript filter over a $kind', ({ make }) => {
  it('uppercases what the peer sends through the input filter', async () => {
    const [underlying, peer] = make();
    const filter = Bufferevent.filter(underlying, { input: uppercaseFilter });
    expect(filter.kind).toBe('filter');
    expect(filter.underlying).toBe(underlying);
    let received = '';
    filter.setCallbacks({ read: (bev) => (received += bev.read().toString()) });
    filter.enable(EV.READ | EV.WRITE);
    peer.enable(EV.READ | EV.WRITE);
    peer.write('hello, filtered world');
    await waitFor(() => received.length === 21, 5_000, 'the filtered bytes');
    expect(received).toBe('HELLO, FILTERED WORLD');
    filter.free();
    peer.free();
  });

  it('uppercases what is written through the output filter before the peer reads it', async () => {
    const [underlying, peer] = make();
    const filter = Bufferevent.filter(underlying, { output: uppercaseFilter });
    let received = '';
    peer.setCallbacks({ read: (bev) => (received += bev.read().toString()) });
    peer.enable(EV.READ | EV.WRITE);
    filter.enable(EV.READ | EV.WRITE);
    filter.write('quiet words, ');
    filter.write('made loud');
    await waitFor(() => received.length === 22, 5_000, 'the filtered bytes');
    expect(received).toBe('QUIET WORDS, MADE LOUD');
    expect(filter.output.length).toBe(0);
    filter.free();
    peer.free();
  });

  it('counts every byte passing each way with pass-through counting filters', async () => {
    const [underlying, peer] = make();
    const input = countingFilter();
    const output = countingFilter();
    const filter = Bufferevent.filter(underlying, { input, output });
    const fromPeer = pattern(200_000, 1);
    const toPeer = pattern(150_000, 2);
    const atFilter: Buffer[] = [];
    const atPeer: Buffer[] = [];
    filter.setCallbacks({ read: (bev) => atFilter.push(bev.read()) });
    peer.setCallbacks({ read: (bev) => atPeer.push(bev.read()) });
    filter.enable(EV.READ | EV.WRITE);
    peer.enable(EV.READ | EV.WRITE);
    peer.write(fromPeer);
    filter.write(toPeer);
    await waitFor(
      () =>
        Buffer.concat(atFilter).length === fromPeer.length && Buffer.concat(atPeer).length === toPeer.length,
      10_000,
      'both directions',
    );
    expect(Buffer.concat(atFilter).equals(fromPeer)).toBe(true);
    expect(Buffer.concat(atPeer).equals(toPeer)).toBe(true);
    expect(input.bytes).toBe(fromPeer.length);
    expect(output.bytes).toBe(toPeer.length);
    expect(input.modes.every((mode) => mode === 0)).toBe(true);
    expect(output.modes.every((mode) => mode === 0)).toBe(true);
    filter.free();
    peer.free();
  });

  it('holds partial 10-byte records (need-more) until enough input arrives', async () => {
    const [underlying, peer] = make();
    const filter = Bufferevent.filter(underlying, { input: recordFilter(10) });
    const chunks: string[] = [];
    filter.setCallbacks({ read: (bev) => chunks.push(bev.read().toString()) });
    filter.enable(EV.READ | EV.WRITE);
    peer.enable(EV.READ | EV.WRITE);
    peer.write('abc');
    await waitFor(() => underlying.input.length === 3, 5_000, '3 bytes at the underlying');
    peer.write('defg');
    await waitFor(() => underlying.input.length === 7, 5_000, '7 bytes at the underlying');
    await turns(5);
    expect(chunks).toEqual([]);
    expect(filter.input.length).toBe(0);
    peer.write('hij'); // completes the first record
    await waitFor(() => chunks.length === 1, 5_000, 'the first record');
    expect(chunks).toEqual(['abcdefghij']);
    expect(underlying.input.length).toBe(0);
    peer.write('0123456789ABCDEFGHIJklm'); // two records and a partial one
    await waitFor(() => chunks.join('').length === 30, 5_000, 'two more records');
    await turns(5);
    expect(chunks.join('')).toBe('abcdefghij0123456789ABCDEFGHIJ');
    for (const chunk of chunks) expect(chunk.length % 10).toBe(0);
    expect(underlying.input.length).toBe(3);
    filter.free();
    peer.free();
  });

  it('passes limit = high - input length to the input filter and keeps the input under the high watermark', async () => {
    const [underlying, peer] = make();
    const high = 64;
    const calls: { limit: number; before: number; after: number }[] = [];
    const filter = Bufferevent.filter(underlying, {
      input(src: EvBuffer, dst: EvBuffer, limit: number) {
        const before = dst.length;
        const count = limit < 0 ? src.length : Math.min(limit, src.length);
        if (count > 0) dst.add(upperAscii(src.remove(count)));
        calls.push({ limit, before, after: dst.length });
        return count > 0 ? 'ok' : 'need-more';
      },
    });
    filter.setWatermark(EV.READ, 0, high);
    let reads = 0;
    filter.setCallbacks({ read: () => reads++ });
    filter.enable(EV.READ | EV.WRITE);
    peer.enable(EV.READ | EV.WRITE);
    const sent = Buffer.alloc(1000, 0x78);
    peer.write(sent);
    await waitFor(() => reads >= 1 && underlying.input.length > 0, 5_000, 'the filter to fill up');
    await turns(5);
    expect(filter.input.length).toBe(high);
    for (const call of calls) {
      expect(call.limit).toBe(high - call.before);
      expect(call.after).toBeLessThanOrEqual(high);
    }
    // Draining the filter's input lets the rest through (libevent re-runs the filter).
    let total = 0;
    filter.setCallbacks({ read: (bev) => (total += bev.read().length) });
    total += filter.read().length;
    await waitFor(() => total === sent.length, 5_000, 'the rest after draining');
    expect(Math.max(...calls.map((call) => call.after))).toBeLessThanOrEqual(high);
    filter.free();
    peer.free();
  });

  it('stops calling a filter that ignores the limit once the input reaches the high watermark', async () => {
    const [underlying, peer] = make();
    const high = 64;
    const step = 30;
    const afters: number[] = [];
    const filter = Bufferevent.filter(underlying, {
      input(src: EvBuffer, dst: EvBuffer) {
        if (src.length === 0) return 'need-more';
        dst.add(src.remove(step));
        afters.push(dst.length);
        return 'ok';
      },
    });
    filter.setWatermark(EV.READ, 0, high);
    let reads = 0;
    filter.setCallbacks({ read: () => reads++ });
    filter.enable(EV.READ | EV.WRITE);
    peer.enable(EV.READ | EV.WRITE);
    peer.write(Buffer.alloc(1000, 0x79));
    await waitFor(() => reads >= 1, 5_000, 'the filter to fill up');
    await turns(5);
    // Called while below the mark: at most one call's worth beyond it.
    expect(filter.input.length).toBeGreaterThanOrEqual(high);
    expect(filter.input.length).toBeLessThan(high + step);
    expect(Math.max(...afters)).toBeLessThan(high + step);
    expect(underlying.input.length).toBe(1000 - filter.input.length);
    filter.free();
    peer.free();
  });
});
