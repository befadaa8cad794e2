// Flush modes reach the filters (NORMAL with data, FLUSH and FINISHED via flush()), and the underlying EOF
// finishes the input filter's stream: its last data arrives before EOF | READING.
import { inflateSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { Bufferevent, filters } from '../../src/index.ts';
import { BEV, EV, socketPairBufferevents, turns, waitFor, checkNothingLeaksAfterEach } from '../helpers.ts';
import { countingFilter, recordFilter, text } from './filter-helpers.ts';

checkNothingLeaksAfterEach();

describe('flush modes', () => {
  it('calls the output filter with NORMAL for written data, FLUSH and FINISHED for flush()', async () => {
    const [underlying, peer] = socketPairBufferevents();
    const output = countingFilter();
    const filter = Bufferevent.filter(underlying, { output });
    filter.enable(EV.READ | EV.WRITE);
    let received = '';
    peer.setCallbacks({ read: (bev) => (received += bev.read().toString()) });
    peer.enable(EV.READ);
    filter.write('normal data');
    expect(output.modes).toEqual([BEV.NORMAL]); // an output filter runs inside write()
    expect(filter.flush(EV.WRITE, BEV.FLUSH)).toBe(1);
    expect(output.modes).toEqual([BEV.NORMAL, BEV.FLUSH]);
    expect(filter.flush(EV.WRITE, BEV.FINISHED)).toBe(1);
    expect(output.modes).toEqual([BEV.NORMAL, BEV.FLUSH, BEV.FINISHED]);
    await waitFor(() => received === 'normal data', 5_000, 'the data');
    expect(output.bytes).toBe(11);
    filter.free();
    peer.free();
  });

  it('calls the input filter with FLUSH for flush(EV.READ, BEV.FLUSH), even with reading disabled', async () => {
    const [underlying, peer] = socketPairBufferevents();
    const input = countingFilter();
    const filter = Bufferevent.filter(underlying, { input });
    filter.flush(EV.READ, BEV.FLUSH);
    expect(input.modes).toEqual([BEV.FLUSH]);
    expect(filter.input.length).toBe(0);
    filter.free();
    peer.free();
  });

  it('lets a deflate output filter emit a sync-flushed block that the far inflater decodes before the end', async () => {
    const [sender, receiver] = socketPairBufferevents();
    const deflater = Bufferevent.filter(sender, { output: filters.deflate() });
    const inflater = Bufferevent.filter(receiver, { input: filters.inflate() });
    const events = vi.fn();
    let received = '';
    inflater.setCallbacks({ read: (bev) => (received += bev.read().toString()), event: events });
    inflater.enable(EV.READ | EV.WRITE);
    deflater.enable(EV.READ | EV.WRITE);
    const message = text(5000).toString();
    deflater.write(message);
    await waitFor(() => sender.output.length === 0, 5_000, 'the sender to drain');
    await turns(10);
    expect(received).toBe(''); // zlib holds the data until a flush
    expect(deflater.flush(EV.WRITE, BEV.FLUSH)).toBe(1);
    await waitFor(() => received.length === message.length, 5_000, 'the flushed block');
    expect(received).toBe(message);
    expect(events).not.toHaveBeenCalled(); // the stream has not ended
    // The stream continues after a sync flush.
    deflater.write('more after the flush');
    deflater.flush(EV.WRITE, BEV.FINISHED);
    await waitFor(() => received.endsWith('more after the flush'), 5_000, 'the last block');
    expect(events).not.toHaveBeenCalled();
    deflater.free();
    inflater.free();
  });

  it('ends the deflate stream with FINISHED so that a plain zlib inflate decodes it whole', async () => {
    const [sender, receiver] = socketPairBufferevents();
    const deflater = Bufferevent.filter(sender, { output: filters.deflate({ level: 9 }) });
    deflater.enable(EV.READ | EV.WRITE);
    const raw: Buffer[] = [];
    receiver.setCallbacks({ read: (bev) => raw.push(bev.read()) });
    receiver.enable(EV.READ);
    const message = text(100_000);
    deflater.write(message);
    deflater.flush(EV.WRITE, BEV.FINISHED);
    const wire = () => Buffer.concat(raw);
    await waitFor(
      () => {
        try {
          return inflateSync(wire()).length === message.length;
        } catch {
          return false;
        }
      },
      5_000,
      'the complete zlib stream',
    );
    expect(inflateSync(wire()).equals(message)).toBe(true);
    expect(wire().length).toBeLessThan(message.length / 3);
    deflater.free();
    receiver.free();
  });

  it('propagates flush(EV.WRITE, BEV.FINISHED) to an underlying pair: the far half reads EOF | READING', async () => {
    const [underlying, far] = Bufferevent.pair();
    const filter = Bufferevent.filter(underlying, {});
    filter.enable(EV.READ | EV.WRITE);
    const log: string[] = [];
    far.setCallbacks({
      read: (bev) => log.push(`read:${bev.read().toString()}`),
      event: (_bev, events) => log.push(`event:${events}`),
    });
    far.enable(EV.READ | EV.WRITE);
    filter.write('bye');
    filter.flush(EV.WRITE, BEV.FINISHED);
    await waitFor(() => log.length === 2, 5_000, 'data and EOF');
    await turns(5);
    expect(log).toEqual(['read:bye', `event:${BEV.EOF | BEV.READING}`]);
    filter.free();
    far.free();
  });
});

describe('the underlying EOF', () => {
  it('calls the input filter with FINISHED once and delivers its last data before EOF | READING', async () => {
    const [underlying, peer] = socketPairBufferevents();
    const input = recordFilter(10);
    const filter = Bufferevent.filter(underlying, { input });
    const log: string[] = [];
    filter.setCallbacks({
      read: (bev) => log.push(`read:${bev.read().toString()}`),
      event: (_bev, events) => log.push(`event:${events}`),
    });
    filter.enable(EV.READ | EV.WRITE);
    peer.write('0123456789tail');
    await waitFor(() => log.length === 1, 5_000, 'the whole record');
    expect(log).toEqual(['read:0123456789']);
    await waitFor(() => peer.output.length === 0, 5_000, 'the peer to drain');
    peer.free(); // closes the socket: the underlying reads EOF
    await waitFor(() => log.length === 3, 5_000, 'the tail and EOF');
    await turns(10);
    expect(log).toEqual(['read:0123456789', 'read:tail', `event:${BEV.EOF | BEV.READING}`]);
    expect(input.modes.filter((mode) => mode === BEV.FINISHED)).toHaveLength(1);
    expect(input.modes.at(-1)).toBe(BEV.FINISHED);
    filter.free();
  });

  it('calls the input filter with FINISHED once even when nothing is left, then delivers only the EOF', async () => {
    const [underlying, peer] = Bufferevent.pair();
    const input = recordFilter(4);
    const filter = Bufferevent.filter(underlying, { input });
    const log: string[] = [];
    filter.setCallbacks({
      read: (bev) => log.push(`read:${bev.read().toString()}`),
      event: (_bev, events) => log.push(`event:${events}`),
    });
    filter.enable(EV.READ | EV.WRITE);
    peer.enable(EV.WRITE);
    peer.write('abcd');
    await waitFor(() => log.length === 1, 5_000, 'the record');
    peer.free(); // the pair delivers EOF | READING to the underlying half
    await waitFor(() => log.length === 2, 5_000, 'the EOF');
    await turns(10);
    expect(log).toEqual(['read:abcd', `event:${BEV.EOF | BEV.READING}`]);
    expect(input.modes.filter((mode) => mode === BEV.FINISHED)).toHaveLength(1);
    filter.free();
  });
});
