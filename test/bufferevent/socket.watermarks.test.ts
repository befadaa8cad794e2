// Read and write watermarks of socket bufferevents: when callbacks run and when reading stops.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BuffereventError } from '../../src/index.ts';
import { EV, liveCounts, socketPairBufferevents, turns, waitFor } from '../helpers.ts';

let start: ReturnType<typeof liveCounts>;
beforeEach(() => {
  start = liveCounts();
});
afterEach(() => {
  expect(liveCounts()).toEqual(start);
});

describe('read low watermark', () => {
  it('calls read only when input reaches the low watermark', async () => {
    const [reader, writer] = socketPairBufferevents();
    const seenLengths: number[] = [];
    reader.setWatermark(EV.READ, 10);
    reader.setCallbacks({ read: (bev) => seenLengths.push(bev.input.length) });
    reader.enable(EV.READ);
    writer.enable(EV.WRITE);

    writer.write('12345');
    await waitFor(() => reader.input.length === 5, 5_000, 'the first 5 bytes in the input');
    await turns(5);
    expect(seenLengths).toEqual([]);

    writer.write('67890abc');
    await waitFor(() => seenLengths.length > 0, 5_000, 'the read callback');
    await turns(3);
    expect(seenLengths).toEqual([13]);
    expect(reader.read().toString()).toBe('1234567890abc');
    reader.free();
    writer.free();
  });
});

describe('read high watermark', () => {
  it('stops reading at the high watermark, leaves the rest in the kernel and resumes when drained', async () => {
    const [reader, writer] = socketPairBufferevents();
    const high = 10_000;
    const total = 64 * 1024;
    const payload = Buffer.alloc(total);
    for (let i = 0; i < total; i++) payload[i] = (i * 7) & 0xff;
    reader.setWatermark(EV.READ, 0, high);
    // No read callback: nothing drains the input, so libevent must stop reading by itself.
    reader.enable(EV.READ);
    writer.enable(EV.WRITE);
    writer.write(payload);

    await waitFor(() => writer.output.length === 0, 5_000, 'the writer handing everything to the kernel');
    await waitFor(() => reader.input.length >= high, 5_000, 'the input filling up to the high watermark');
    await turns(10);
    const stalled = reader.input.length;
    // libevent sizes each read as (high - buffered) in bufferevent_readcb, so the input stops
    // exactly at the mark, not one 4096-byte read past it; the rest (54 KiB) stays in the kernel.
    expect(stalled).toBe(high);
    expect(reader.enabled & EV.READ).toBe(EV.READ); // suspended by the watermark, not disabled
    await turns(10);
    expect(reader.input.length).toBe(stalled);

    const received: Buffer[] = [reader.read()];
    let count = received[0]!.length;
    const deadline = Date.now() + 10_000;
    while (count < total && Date.now() < deadline) {
      await waitFor(() => reader.input.length > 0, 5_000, 'reading to resume after draining');
      expect(reader.input.length).toBeLessThanOrEqual(high);
      const chunk = reader.read();
      received.push(chunk);
      count += chunk.length;
    }
    expect(Buffer.concat(received).equals(payload)).toBe(true);
    reader.free();
    writer.free();
  });
});

describe('write low watermark', () => {
  it('calls write only once the output has drained to the write low watermark', async () => {
    const [sender, receiver] = socketPairBufferevents();
    const low = 256 * 1024;
    const total = 4 * 1024 * 1024;
    const outputAtWriteCallback: number[] = [];
    sender.setWatermark(EV.WRITE, low);
    sender.setCallbacks({ write: (bev) => outputAtWriteCallback.push(bev.output.length) });
    sender.enable(EV.WRITE);
    sender.write(Buffer.alloc(total, 0x61));

    // The receiver is not reading: the kernel buffers fill and the output stops shrinking above `low`.
    await waitFor(() => sender.output.length < total, 5_000, 'the first write to the kernel');
    let previous = -1;
    const deadline = Date.now() + 5_000;
    while (sender.output.length !== previous && Date.now() < deadline) {
      previous = sender.output.length;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(sender.output.length).toBeGreaterThan(low);
    expect(outputAtWriteCallback).toEqual([]);

    let received = 0;
    receiver.setCallbacks({ read: (bev) => (received += bev.input.drain()) });
    receiver.enable(EV.READ);
    await waitFor(() => outputAtWriteCallback.length > 0, 10_000, 'the write callback');
    const first = outputAtWriteCallback[0]!;
    expect(first).toBeLessThanOrEqual(low);
    expect(first).toBeGreaterThan(0); // it ran before the output was empty
    await waitFor(() => received === total, 10_000, 'all bytes at the receiver');
    expect(outputAtWriteCallback.every((length) => length <= low)).toBe(true);
    expect(outputAtWriteCallback.at(-1)).toBe(0);
    sender.free();
    receiver.free();
  });
});

describe('setWatermark and getWatermark', () => {
  it('returns exactly the watermarks that were set, per direction', () => {
    const [a, b] = socketPairBufferevents();
    expect(a.getWatermark(EV.READ)).toEqual({ low: 0, high: 0 });
    expect(a.getWatermark(EV.WRITE)).toEqual({ low: 0, high: 0 });
    a.setWatermark(EV.READ, 10, 100);
    a.setWatermark(EV.WRITE, 2048);
    expect(a.getWatermark(EV.READ)).toEqual({ low: 10, high: 100 });
    expect(a.getWatermark(EV.WRITE)).toEqual({ low: 2048, high: 0 });
    a.setWatermark(EV.READ | EV.WRITE, 5, 50);
    expect(a.getWatermark(EV.READ)).toEqual({ low: 5, high: 50 });
    expect(a.getWatermark(EV.WRITE)).toEqual({ low: 5, high: 50 });
    a.setWatermark(EV.READ, 1_000_000, 0); // high 0 means unlimited: any low is valid
    expect(a.getWatermark(EV.READ)).toEqual({ low: 1_000_000, high: 0 });
    a.free();
    b.free();
  });

  it('throws ERR_INVALID_WATERMARK for a low watermark above the high one and keeps the old values', () => {
    const [a, b] = socketPairBufferevents();
    a.setWatermark(EV.READ, 1, 10);
    let caught: unknown;
    try {
      a.setWatermark(EV.READ, 11, 10);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BuffereventError);
    expect((caught as BuffereventError).code).toBe('ERR_INVALID_WATERMARK');
    expect(() => a.setWatermark(EV.WRITE, -1)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_WATERMARK' }),
    );
    expect(() => a.setWatermark(EV.READ, 1.5, 10)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_WATERMARK' }),
    );
    expect(a.getWatermark(EV.READ)).toEqual({ low: 1, high: 10 });
    a.free();
    b.free();
  });
});
