// Behaviour every bufferevent kind shares (socket over a socket pair, pair, pass-through filter over a
// socket pair): echo both ways, the read low watermark, enable/disable, free, and toStream().
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Bufferevent } from '../../src/index.ts';
import { BEV, EV, liveCounts, openFdCount, turns, waitFor, errorCodeOf as codeOf } from '../helpers.ts';
import { kinds, pattern } from './kinds.ts';

/** b sends back everything it reads. */
function echo(bev: Bufferevent): void {
  bev.setCallbacks({ read: (self) => self.output.addBuffer(self.input) });
  bev.enable(EV.READ | EV.WRITE);
}

describe.each(kinds)('a $kind bufferevent', ({ kind, connect }) => {
  let start: ReturnType<typeof liveCounts>;
  let fdsBefore: number;
  beforeEach(() => {
    start = liveCounts();
    fdsBefore = openFdCount();
  });
  afterEach(async () => {
    await turns(3);
    expect(liveCounts()).toEqual(start);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('reports its kind', () => {
    const [a, b] = connect();
    expect(a.kind).toBe(kind);
    expect(b.kind).toBe(kind);
    a.free();
    b.free();
  });

  it('echoes data both ways', async () => {
    const [a, b] = connect();
    for (const [sender, echoer, message] of [
      [a, b, 'from a, echoed by b'],
      [b, a, 'from b, echoed by a'],
    ] as const) {
      echo(echoer);
      let received = '';
      sender.setCallbacks({ read: (self) => (received += self.read().toString()) });
      sender.enable(EV.READ | EV.WRITE);
      sender.write(message);
      await waitFor(() => received.length >= message.length, 5_000, `the echo of "${message}"`);
      expect(received).toBe(message);
    }
    a.free();
    b.free();
  });

  it('calls read only when the input reaches the read low watermark', async () => {
    const [a, b] = connect();
    const lengths: number[] = [];
    b.setWatermark(EV.READ, 10);
    expect(b.getWatermark(EV.READ)).toEqual({ low: 10, high: 0 });
    b.setCallbacks({ read: (self) => lengths.push(self.read().length) });
    b.enable(EV.READ);
    a.enable(EV.WRITE);
    a.write('12345');
    await waitFor(() => b.input.length === 5, 5_000, 'the first 5 bytes');
    await turns(5);
    expect(lengths).toEqual([]);
    a.write('67890');
    await waitFor(() => lengths.length === 1, 5_000, 'the read callback');
    await turns(3);
    expect(lengths).toEqual([10]);
    a.free();
    b.free();
  });

  it('starts with only EV.WRITE enabled, and reads only while EV.READ is enabled', async () => {
    const [a, b] = connect();
    expect(b.enabled).toBe(EV.WRITE);
    const read = vi.fn((self: Bufferevent) => self.read().toString());
    b.setCallbacks({ read });
    a.enable(EV.WRITE);
    a.write('waiting');
    await turns(10);
    expect(read).not.toHaveBeenCalled();
    b.enable(EV.READ);
    expect(b.enabled).toBe(EV.READ | EV.WRITE);
    await waitFor(() => read.mock.calls.length === 1, 5_000, 'the read');
    expect(read.mock.results[0]!.value).toBe('waiting');
    b.disable(EV.READ);
    expect(b.enabled).toBe(EV.WRITE);
    a.write('held');
    await turns(10);
    expect(read).toHaveBeenCalledTimes(1);
    b.disable(EV.WRITE);
    expect(b.enabled).toBe(0);
    b.enable(EV.READ);
    await waitFor(() => read.mock.calls.length === 2, 5_000, 'the held bytes');
    expect(read.mock.results[1]!.value).toBe('held');
    a.free();
    b.free();
  });

  it('runs no callback after free(), with a read, a write and an event pending', async () => {
    const [a, b] = connect();
    const callbacks = { read: vi.fn(), write: vi.fn(), event: vi.fn() };
    b.setCallbacks(callbacks);
    b.enable(EV.READ | EV.WRITE);
    a.enable(EV.READ | EV.WRITE);
    a.write('incoming');
    b.write('outgoing');
    b.trigger(EV.READ | EV.WRITE, { ignoreWatermarks: true });
    b.triggerEvent(BEV.ERROR | BEV.READING);
    b.free();
    await turns(10);
    expect(callbacks.read).not.toHaveBeenCalled();
    expect(callbacks.write).not.toHaveBeenCalled();
    expect(callbacks.event).not.toHaveBeenCalled();
    a.free();
  });

  it('throws ERR_FREED from every operation after free(), which stays idempotent', () => {
    const [a, b] = connect();
    b.free();
    expect(b.freed).toBe(true);
    expect(() => b.free()).not.toThrow();
    const operations: [string, () => unknown][] = [
      ['write', () => b.write('x')],
      ['read', () => b.read()],
      ['enable', () => b.enable(EV.READ)],
      ['disable', () => b.disable(EV.READ)],
      ['enabled', () => b.enabled],
      ['setWatermark', () => b.setWatermark(EV.READ, 1)],
      ['setCallbacks', () => b.setCallbacks({})],
      ['input', () => b.input],
      ['output', () => b.output],
      ['flush', () => b.flush(EV.WRITE, BEV.FLUSH)],
      ['trigger', () => b.trigger(EV.READ)],
      ['toStream', () => b.toStream()],
    ];
    for (const [name, operation] of operations)
      expect([name, codeOf(operation)]).toEqual([name, 'ERR_FREED']);
    a.free();
  });

  it('carries 1 MiB through toStream() to an echoing peer and back intact', async () => {
    const [a, b] = connect();
    const peerStream = b.toStream();
    peerStream.pipe(peerStream); // echo
    const stream = a.toStream();
    const data = pattern(1024 * 1024, 3);
    const chunks: Buffer[] = [];
    let received = 0;
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
    });
    await pipeline(
      Readable.from([data.subarray(0, 300_000), data.subarray(300_000)]),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (stream.write(chunk)) callback();
          else stream.once('drain', () => callback());
        },
      }),
    );
    await waitFor(() => received === data.length, 10_000, '1 MiB back');
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    stream.destroy();
    peerStream.destroy();
    expect(a.freed).toBe(true);
    expect(b.freed).toBe(true);
  });

  it("ends the peer stream's readable side when the stream is ended", async () => {
    const [a, b] = connect();
    const peerStream = b.toStream({ allowHalfOpen: true });
    const stream = a.toStream({ allowHalfOpen: true });
    const received: Buffer[] = [];
    peerStream.on('data', (chunk: Buffer) => received.push(chunk));
    stream.end('last words');
    await Promise.race([
      once(peerStream, 'end'),
      new Promise((_resolve, reject) =>
        setTimeout(() => reject(new Error('no end at the peer within 5 s')), 5_000),
      ),
    ]).finally(() => {
      stream.destroy();
      peerStream.destroy();
    });
    expect(Buffer.concat(received).toString()).toBe('last words');
  });
});
